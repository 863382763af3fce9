"""The middleware's own metrics, where its target file declares them (`[metrics]`): a Prometheus
text endpoint and the gauge that says whether its database is up. The on-call architect watches
these (CloudWatch in production); during a database outage they must say so, as health must."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

import httpx

from .adapters import Outcome, resending_request
from .targetfields import Fields

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
TIMEOUT_S = 2.0


@dataclass(frozen=True)
class MetricsSpec:
    """`[metrics] url` (a template, like every URL of the file) and `database_up`: a gauge that reads
    1 while the middleware can use its database and 0 while it cannot."""

    url: str
    database_up: str


def parse_metrics(table: Fields) -> MetricsSpec | None:
    url = table.get("url", str)
    gauge = table.get("database_up", str)
    table.no_unknown()
    if url is None and gauge is None:
        return None
    if url is None:
        raise table.error("url", "is required with database_up (where the Prometheus text is served)")
    if gauge is None or not _NAME.match(gauge):
        raise table.error("database_up", f"must be a Prometheus metric name, got {gauge!r}")
    return MetricsSpec(url, gauge)


def read_gauge(text: str, name: str) -> float | None:
    """The value of `name` in Prometheus text exposition (the first sample, labels ignored); None
    when the text has no such sample or its value is not a number."""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = _SAMPLE.match(line.strip())
        if match and match.group(1) == name:
            try:
                value = float(match.group(3))
            except ValueError:
                return None
            return None if math.isnan(value) else value
    return None


class MetricsProbe:
    """Scrapes the endpoint once per call, as an Outcome whose body says what the gauge read."""

    def __init__(self, url: str, gauge: str) -> None:
        self.url = url
        self.gauge = gauge
        self._http = httpx.Client(timeout=TIMEOUT_S, trust_env=False)

    def read(self) -> Outcome:
        began = time.monotonic()
        try:
            answer = resending_request(self._http, "GET", self.url)
        except httpx.HTTPError as exc:
            return Outcome(
                "info", None, None, (time.monotonic() - began) * 1000, f"{type(exc).__name__}: {exc}"
            )
        latency = (time.monotonic() - began) * 1000
        if answer.status_code != 200:
            return Outcome(
                "fail", answer.status_code, {"text": answer.text[:300]}, latency, f"HTTP {answer.status_code}"
            )
        value = read_gauge(answer.text, self.gauge)
        body = {self.gauge: value, "database_up": value}
        return Outcome("ok", 200, body, latency, "" if value is not None else f"no {self.gauge} sample")

    def close(self) -> None:
        self._http.close()
