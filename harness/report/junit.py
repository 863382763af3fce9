"""JUnit XML for CI: a failed scenario is a <failure> (the middleware), an inconclusive one a
<failure type="inconclusive"> (too little evidence to judge: it fails the gate too), a scenario not
applicable to the target is <skipped>, and a harness error is an <error> (never blamed on the
middleware)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any


def junit_xml(meta: dict[str, Any], records: list[dict[str, Any]]) -> str:
    suites = ET.Element("testsuites", name="uat-gate")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="uat-gate",
        tests=str(len(records) + len((meta.get("merged") or {}).get("missing", []))),
        failures=str(
            sum(r.get("status") in ("failed", "inconclusive") for r in records)
            + len((meta.get("merged") or {}).get("missing", []))
        ),
        errors=str(sum(r.get("status") in ("harness_error", "config_error") for r in records)),
        skipped=str(sum(r.get("status") == "skipped" for r in records)),
        time=f"{sum(float(r.get('duration_s') or 0) for r in records):.2f}",
        timestamp=str(meta.get("started_at", "")),
    )
    props = ET.SubElement(suite, "properties")
    for key in ("target", "seed", "backend", "strict"):
        ET.SubElement(props, "property", name=key, value=str(meta.get(key, "")))
    for r in records:
        case = ET.SubElement(
            suite, "testcase", classname=f"uat.{r['suite']}", name=r["id"], time=f"{r.get('duration_s', 0)}"
        )
        if r.get("status") == "failed":
            checks = r.get("failing_checks", [])
            message = "; ".join(
                f"{c['check']}: {c['summary']}"
                + (f" (diagnosis: {c['diagnosis']['summary']})" if c.get("diagnosis") else "")
                for c in checks
            )
            body = "\n".join(
                [f"{c['check']}: {json.dumps(c.get('evidence', [])[:10], default=str)}" for c in checks]
                + [f"reproduce: {r['reproduce']}"]
            )
            ET.SubElement(case, "failure", message=message, type="gate failure").text = body
        elif r.get("status") == "inconclusive":
            missing = r.get("missing_evidence", [])
            message = "not enough evidence to judge: " + "; ".join(missing)
            body = "\n".join([*(f"missing: {m}" for m in missing), f"reproduce: {r['reproduce']}"])
            ET.SubElement(case, "failure", message=message, type="inconclusive").text = body
        elif r.get("status") == "skipped":
            ET.SubElement(case, "skipped", message=str(r.get("reason", "not applicable to this target")))
        elif r.get("status") == "config_error":
            ET.SubElement(
                case, "error", message=str(r.get("error", "")), type="target file error"
            ).text = f"the target file is wrong, not a verdict on the middleware\nreproduce: {r['reproduce']}"
        elif r.get("status") == "harness_error":
            ET.SubElement(
                case, "error", message=str(r.get("error", "")), type="harness error"
            ).text = f"harness error, not a verdict on the middleware\nreproduce: {r['reproduce']}"
        ET.SubElement(case, "system-out").text = f"reproduce: {r['reproduce']}"
    merged = meta.get("merged") or {}
    for index in merged.get("missing", []):  # a merge without every shard: never green in CI
        name = f"shard {index}/{merged['count']}"
        case = ET.SubElement(suite, "testcase", classname="uat.shards", name=name, time="0")
        ET.SubElement(case, "failure", message=f"incomplete: {name} missing", type="incomplete")
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
