"""The settings a run's Locust processes share: read from parsed options when users start, with
defaults for a plain locustfile run, and the master's population carried as JSON."""

from __future__ import annotations

import argparse

from harness.load.identities import identity, load_population
from harness.load.settings import OPTIONS, Settings
from harness.load.shapes import profile


def test_options_read_into_settings_and_absent_ones_default() -> None:
    population = load_population()
    options = argparse.Namespace(
        uat_seed=9,
        uat_run_started=1_700_000_123.5,
        uat_workers=3,
        uat_remote_workers=1,
        uat_onboarded=40,
        uat_profile="market-open",
        uat_traders=40,
        uat_duration=30.0,
        uat_symbols="ESZ6, NQZ6",
        uat_stripe_control="http://127.0.0.1:9/control",
        uat_population=population.to_json(),
    )
    settings = Settings.read(options)
    assert settings.profile == profile("market-open", 40, 30.0)
    assert (settings.seed, settings.workers, settings.remote_workers, settings.onboarded) == (9, 3, 1, 40)
    assert settings.symbols == ("ESZ6", "NQZ6") and settings.run_tag == "000123"
    assert settings.population() == population
    plain = Settings.read(argparse.Namespace())
    assert plain.workers == 1 and plain.profile is None and plain.symbols == ("ESZ6",)
    assert {flag for flag, *_ in OPTIONS} >= {"--uat-seed", "--uat-workers", "--uat-profile"}


def test_a_population_sent_as_json_names_the_same_traders() -> None:
    population = load_population()
    again = type(population).from_json(population.to_json())
    assert again == population
    assert identity(3, 17, again) == identity(3, 17, population)
