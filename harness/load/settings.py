"""The settings every Locust process of a load run shares, as Locust command-line options.

Locust sends the master's parsed options to each worker with every spawn message, so a worker
started elsewhere with only `--worker --master-host H --master-port P` trades with the master's
seed, run start, worker count, profile and population, not with whatever its own environment
says. Each option also reads a UAT_* variable, so one `locust -f harness/load/users.py` still runs
from the environment. Read them when users start (`Settings.read`), never at import: a worker
only has the master's values once the first spawn message has arrived.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cache
from typing import Any

from .identities import Population, load_population
from .shapes import Profile, profile

# flag, environment variable, type, default, help
OPTIONS: tuple[tuple[str, str, type, Any, str], ...] = (
    ("--uat-seed", "UAT_SEED", int, 0, "the run's seed: who the traders are and what they do"),
    ("--uat-run-started", "UAT_RUN_STARTED", float, 0.0, "run start, epoch s (0: when the load starts)"),
    ("--uat-workers", "UAT_WORKERS", int, 0, "Locust workers, local and remote (0: one local process)"),
    ("--uat-remote-workers", "UAT_REMOTE_WORKERS", int, 0, "of those, workers that ship their journal"),
    ("--uat-onboarded", "UAT_ONBOARDED", int, 0, "traders 0..n-1 were onboarded before the run"),
    ("--uat-profile", "UAT_PROFILE", str, "", "the load profile (see shapes.py; empty: no shape)"),
    ("--uat-traders", "UAT_TRADERS", int, 10, "the profile's peak traders"),
    ("--uat-duration", "UAT_DURATION", float, 60.0, "the profile's length in seconds"),
    ("--uat-symbols", "UAT_SYMBOLS", str, "ESZ6", "comma-separated symbols the traders trade"),
    ("--uat-stripe-control", "UAT_STRIPE_CONTROL", str, "", "the Stripe emitter's control API"),
    ("--uat-adapter", "UAT_ADAPTER", str, "", "the target's adapter, bound to the topology (JSON)"),
)
POPULATION_OPTION = "uat_population"  # the master's traders fixture, as JSON; set at its init


def add_arguments(parser: Any) -> None:
    """Register the options on Locust's parser (events.init_command_line_parser)."""
    for flag, variable, kind, default, text in OPTIONS:
        parser.add_argument(
            flag, type=kind, default=default, env_var=variable, include_in_web_ui=False, help=text
        )
    parser.add_argument(
        "--uat-population",
        default="",
        include_in_web_ui=False,
        help="the traders fixture as JSON (default: the master's UAT_FIXTURES or fixtures/traders.yaml)",
    )


@dataclass(frozen=True)
class Settings:
    seed: int = 0
    run_started: float = 0.0
    workers: int = 1  # processes that number traders: worker k of n numbers k, k+n, k+2n...
    remote_workers: int = 0
    onboarded: int = 0
    profile: Profile | None = None
    symbols: tuple[str, ...] = ("ESZ6",)
    stripe_control: str = ""
    population_json: str = ""
    adapter_json: str = ""  # wire.AdapterWire as JSON: how to talk to the target

    @classmethod
    def read(cls, options: argparse.Namespace | None) -> Settings:
        """The settings in a process's parsed options (defaults where an option is absent)."""
        values = vars(options) if options is not None else {}
        name = str(values.get("uat_profile") or "")
        shape = (
            profile(name, int(values.get("uat_traders", 10)), float(values.get("uat_duration", 60.0)))
            if name
            else None
        )
        symbols = tuple(s.strip() for s in str(values.get("uat_symbols") or "ESZ6").split(",") if s.strip())
        return cls(
            seed=int(values.get("uat_seed", 0)),
            run_started=float(values.get("uat_run_started", 0.0) or 0.0),
            workers=max(1, int(values.get("uat_workers", 0) or 0)),
            remote_workers=int(values.get("uat_remote_workers", 0) or 0),
            onboarded=int(values.get("uat_onboarded", 0) or 0),
            profile=shape,
            symbols=symbols or ("ESZ6",),
            stripe_control=str(values.get("uat_stripe_control") or ""),
            population_json=str(values.get(POPULATION_OPTION) or ""),
            adapter_json=str(values.get("uat_adapter") or ""),
        )

    @property
    def run_tag(self) -> str:
        """Traders are the same in every run of a seed, so order ids also carry the run: a second
        run against a middleware that is still up must place new orders, not replay the first's."""
        return f"{int(self.run_started) % 1_000_000:06d}"

    def population(self) -> Population:
        """The master's population when it sent one, else this process's fixture."""
        return _population(self.population_json)


@cache
def _population(text: str) -> Population:
    return Population.from_json(text) if text else load_population()
