"""The same seed replays the same run: two gates of one scenario at one seed, side by side (so their
timing differs), onboard the same Stripe customers, place the same orders (ids, symbols, sides,
sizes, types and prices), play the same fault schedule and reach the same verdicts.

Slow: one scenario in two lanes, about 25 s."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.testing import gate_lanes

pytestmark = [pytest.mark.slow, pytest.mark.lanes, pytest.mark.timeout(300)]
SCENARIO = "LATENCY-ORDER-PATH-SPIKE"  # jittered latency and client retries: several seeded draws
ORDER_FIELDS = ("client_order_id", "symbol", "side", "qty", "order_type", "limit_price")


def _history(report: Path) -> list[dict[str, Any]]:
    results = report / "allure-results"
    for result_file in results.glob("*-result.json"):
        for attachment in json.loads(result_file.read_text()).get("attachments", []):
            if attachment["name"] == "full history (jsonl)":
                text = (results / attachment["source"]).read_text()
                return [json.loads(line) for line in text.splitlines() if line.strip()]
    raise AssertionError(f"no history attached in {results}")


def _orders_by_trader(history: list[dict[str, Any]]) -> dict[str, list[tuple[Any, ...]]]:
    orders: dict[str, list[tuple[Any, ...]]] = {}
    for op in history:
        if op["f"] == "place_order" and op["type"] == "invoke":
            orders.setdefault(op["process"], []).append(tuple(op["value"].get(k) for k in ORDER_FIELDS))
    return orders


def test_the_same_seed_replays_the_same_customers_orders_faults_and_verdicts(tmp_path: Path) -> None:
    args = ["--scenario", SCENARIO, "--seed", "5", "--backend", "embedded", "--no-html"]
    runs = gate_lanes([args, args], tmp_path, timeout_s=240)
    records = []
    for code, gate, output in runs:
        assert code == 0, output
        (record,) = gate["scenarios"]
        records.append(record)
    first, second = records
    assert first["customers"] and first["customers"] == second["customers"]
    assert len(set(first["customers"])) == len(first["customers"])

    orders = [_orders_by_trader(_history(tmp_path / f"lane-{i}")) for i in range(2)]
    assert sorted(orders[0]) == sorted(orders[1]) and len(orders[0]) >= 2  # the same traders
    compared = 0
    for trader, placed in orders[0].items():
        again = orders[1][trader]
        common = min(len(placed), len(again))  # a trader may fit one more order in before the end
        assert common >= 3 and abs(len(placed) - len(again)) <= 2, (trader, len(placed), len(again))
        assert placed[:common] == again[:common], trader
        compared += common
    assert compared >= 10

    def schedule(record: dict[str, Any]) -> list[tuple[str, str, str]]:
        return [(f["name"], f["kind"], f["target"]) for f in record["faults"]]

    assert schedule(first) == schedule(second) and schedule(first)
    for a, b in zip(first["faults"], second["faults"], strict=True):
        assert abs(a["start"] - b["start"]) < 1.5 and abs(a["end"] - b["end"]) < 1.5

    def verdicts(record: dict[str, Any]) -> dict[str, str]:
        return {v["check"]: v["status"] for v in record["verdicts"]}

    assert verdicts(first) == verdicts(second) and len(verdicts(first)) >= 3
    assert first["reproduce"] == second["reproduce"] and "--backend embedded" in first["reproduce"]
