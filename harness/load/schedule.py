"""Fault schedules for load runs: a YAML file of timed faults, network and protocol mixed.

    seed: 7
    faults:
      - at: 60s            # seconds into the run ("90", 90, "1m30s" and "250ms" also work)
        for: 10s
        venue: rithmic
        down: true         # the venue unreachable
      - at: 2m
        for: 30s
        venue: rithmic
        toxic: latency     # any Toxiproxy toxic, on the venue's proxy
        stream: upstream
        attributes: {latency: 500, jitter: 100}
      - at: 150s
        venue: rithmic
        protocol: duplicate_fill   # a fault armed on the venue mock's control API
        count: 3
      - at: 3m
        for: 10s
        venue: postgres    # the middleware's database link: down and every toxic apply to it too
        down: true
      - at: 4m
        for: 5s
        database: table_lock       # harness SQL: table_lock, exhaust_connections, statement_timeout, restart
      - at: 5m
        deploy: graceful           # the middleware redeployed: graceful, crash or bad_release

Every error names the entry and the field: `faults[1].attributes.latncy: unknown attribute`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..faults.embedded.toxics import TOXIC_TYPES
from ..mockstack import VENUES
from ..scenario.faults import DB_FAULTS, DEPLOYS, POSTGRES, FaultStep, db_fault, deploy, down, protocol, toxic

MAX_RUN_S = 24 * 3600  # a schedule longer than a day is a typo, not a soak test
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$")
_ENTRY_KEYS = {
    "at",
    "for",
    "venue",
    "down",
    "toxic",
    "stream",
    "toxicity",
    "attributes",
    "protocol",
    "count",
    "params",
    "database",
    "deploy",
}
KINDS = ("down", "toxic", "protocol", "database", "deploy")
# Row locks name a scenario's accounts; a load run's population is not listed, so a schedule locks
# whole tables instead (table_lock), and takes every other database fault as it is.
LOAD_DB_FAULTS = tuple(f for f in DB_FAULTS if f not in ("row_lock", "idle_in_transaction"))


class ScheduleError(ValueError):
    """A bad schedule; the message starts with the file and the dotted field."""

    def __init__(self, source: str, where: str, message: str) -> None:
        super().__init__(f"{source}: {where}: {message}")
        self.field = where


@dataclass(frozen=True)
class Schedule:
    source: str
    seed: int
    steps: tuple[FaultStep, ...]

    @property
    def duration_s(self) -> float:
        return max((s.at + (s.for_s or 0.0) for s in self.steps), default=0.0)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "seed": self.seed,
            "faults": [{"at": s.at, "for": s.for_s, "fault": s.label} for s in self.steps],
        }


def parse_duration(value: Any, where: str, source: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ScheduleError(source, where, f"must be a duration like 90, 90s, 1m30s or 250ms, got {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif re.fullmatch(r"\d+(?:\.\d+)?", str(value).strip()):
        seconds = float(str(value).strip())
    else:
        match = _DURATION.match(str(value).strip())
        if not match or not any(match.groups()):
            raise ScheduleError(
                source, where, f"must be a duration like 90, 90s, 1m30s or 250ms, got {value!r}"
            )
        hours, minutes, secs, millis = (float(g) if g else 0.0 for g in match.groups())
        seconds = hours * 3600 + minutes * 60 + secs + millis / 1000
    if not 0 <= seconds <= MAX_RUN_S:
        raise ScheduleError(source, where, f"must be between 0 and {MAX_RUN_S} s, got {seconds:g}")
    return seconds


def load(path: str | Path) -> Schedule:
    source = str(path)
    try:
        data = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ScheduleError(source, "file", "no such file") from None
    except yaml.YAMLError as exc:
        raise ScheduleError(source, "yaml", str(exc).replace("\n", " ")) from None
    return parse(data, source)


def parse(data: Any, source: str) -> Schedule:
    if not isinstance(data, dict):
        raise ScheduleError(source, "schedule", "must be a mapping with a `faults` list")
    unknown = sorted(set(data) - {"seed", "faults"})
    if unknown:
        raise ScheduleError(source, unknown[0], "unknown field (known: faults, seed)")
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ScheduleError(source, "seed", f"must be an integer, got {seed!r}")
    entries = data.get("faults")
    if not isinstance(entries, list) or not entries:
        raise ScheduleError(source, "faults", "must be a non-empty list of faults")
    steps = tuple(_step(entry, f"faults[{i}]", source) for i, entry in enumerate(entries))
    return Schedule(source, seed, tuple(sorted(steps, key=lambda s: s.at)))


def _step(entry: Any, where: str, source: str) -> FaultStep:
    if not isinstance(entry, dict):
        raise ScheduleError(source, where, "must be a mapping")
    unknown = sorted(set(entry) - _ENTRY_KEYS)
    if unknown:
        raise ScheduleError(
            source, f"{where}.{unknown[0]}", f"unknown field (known: {', '.join(sorted(_ENTRY_KEYS))})"
        )
    kinds = [k for k in KINDS if k in entry]
    if len(kinds) != 1:
        raise ScheduleError(source, where, f"needs exactly one of {', '.join(f'`{k}`' for k in KINDS)}")
    kind = kinds[0]
    at = parse_duration(entry.get("at", 0), f"{where}.at", source)
    for_s = parse_duration(entry["for"], f"{where}.for", source) if "for" in entry else None
    if for_s is not None and for_s <= 0:
        raise ScheduleError(source, f"{where}.for", "must be longer than 0")
    if kind in ("database", "deploy"):
        return _state_step(entry, where, source, kind, at, for_s)
    venue = entry.get("venue")
    links = (*VENUES, POSTGRES) if kind in ("down", "toxic") else tuple(VENUES)
    if venue not in links:
        raise ScheduleError(source, f"{where}.venue", f"must be one of {', '.join(links)}, got {venue!r}")
    if kind == "down":
        if entry["down"] is not True:
            raise ScheduleError(source, f"{where}.down", "must be true")
        if for_s is None:
            raise ScheduleError(
                source, f"{where}.for", "is required for `down` (a venue down for good ends no run)"
            )
        return down(venue, at=at, for_s=for_s)
    if kind == "toxic":
        return _toxic(entry, where, source, venue, at, for_s)
    fault = entry["protocol"]
    if not isinstance(fault, str) or not fault:
        raise ScheduleError(source, f"{where}.protocol", f"must be a fault name, got {fault!r}")
    count = entry.get("count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise ScheduleError(source, f"{where}.count", f"must be a positive integer, got {count!r}")
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise ScheduleError(source, f"{where}.params", "must be a mapping")
    return protocol(venue, fault, at=at, for_s=for_s, count=count, **params)


def _state_step(
    entry: dict[str, Any], where: str, source: str, kind: str, at: float, for_s: float | None
) -> FaultStep:
    """`database: KIND` (with `params`) or `deploy: HOW`: no venue, they break the middleware's own state."""
    if "venue" in entry:
        raise ScheduleError(
            source, f"{where}.venue", f"is not used with `{kind}` (it targets the middleware)"
        )
    name = entry[kind]
    params = entry.get("params", {})
    if not isinstance(params, dict):
        raise ScheduleError(source, f"{where}.params", "must be a mapping")
    if kind == "deploy":
        if name not in DEPLOYS:
            raise ScheduleError(
                source, f"{where}.deploy", f"must be one of {', '.join(DEPLOYS)}, got {name!r}"
            )
        if for_s is not None or params:
            raise ScheduleError(
                source,
                f"{where}.for",
                "a deployment takes no `for` or `params`: it lasts as long as it takes",
            )
        return deploy(name, at=at)
    if name not in LOAD_DB_FAULTS:
        raise ScheduleError(
            source, f"{where}.database", f"must be one of {', '.join(LOAD_DB_FAULTS)}, got {name!r}"
        )
    from ..dbfaults import DatabaseFaultError, validate

    if name == "table_lock" and "table" not in params:
        raise ScheduleError(source, f"{where}.params.table", "is required: the table to lock")
    try:
        validate(name, params)
    except DatabaseFaultError as exc:
        raise ScheduleError(source, f"{where}.params", str(exc)) from None
    if name != "restart" and for_s is None:
        raise ScheduleError(source, f"{where}.for", f"is required for `{name}` (how long it holds)")
    return db_fault(name, at=at, for_s=for_s, **params)


def _toxic(
    entry: dict[str, Any], where: str, source: str, venue: str, at: float, for_s: float | None
) -> FaultStep:
    name = entry["toxic"]
    if name not in TOXIC_TYPES:
        raise ScheduleError(
            source, f"{where}.toxic", f"unknown toxic {name!r} (known: {', '.join(TOXIC_TYPES)})"
        )
    stream = entry.get("stream", "downstream")
    if stream not in ("upstream", "downstream"):
        raise ScheduleError(source, f"{where}.stream", f"must be upstream or downstream, got {stream!r}")
    toxicity = entry.get("toxicity", 1.0)
    if isinstance(toxicity, bool) or not isinstance(toxicity, int | float) or not 0 <= toxicity <= 1:
        raise ScheduleError(source, f"{where}.toxicity", f"must be a number from 0 to 1, got {toxicity!r}")
    attributes = entry.get("attributes", {})
    if not isinstance(attributes, dict):
        raise ScheduleError(source, f"{where}.attributes", "must be a mapping")
    known = TOXIC_TYPES[name][1]
    for key, value in attributes.items():
        if key not in known:
            raise ScheduleError(
                source,
                f"{where}.attributes.{key}",
                f"unknown attribute for {name} (known: {', '.join(known) or 'none'})",
            )
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ScheduleError(
                source, f"{where}.attributes.{key}", f"must be a whole number >= 0, got {value!r}"
            )
    return toxic(venue, name, at=at, for_s=for_s, stream=stream, toxicity=float(toxicity), **attributes)
