"""Seeded trader identities: a pure function of (seed, index), from fixtures/traders.yaml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.load.identities import DEFAULT_FILE, FixtureError, identity, load_population


def test_the_same_seed_and_index_give_the_same_trader() -> None:
    first = [identity(7, i) for i in range(50)]
    assert [identity(7, i) for i in reversed(range(50))][::-1] == first  # order of calls does not matter
    assert first[3].email.endswith("@example.com") and first[3].customer_id.startswith("cus_")
    assert first[3].name == f"{first[3].first_name} {first[3].last_name}"
    assert len(first[3].country) == 2 and first[3].locale in load_population().locales


def test_another_process_builds_the_same_population() -> None:
    """What a Locust worker does: a fresh interpreter, a different hash seed, same identities."""
    code = "from harness.load.identities import identity; print([identity(7, i) for i in range(20)])"
    env = {"PYTHONHASHSEED": "123", "PATH": ""}
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert other.stdout.strip() == str([identity(7, i) for i in range(20)])


def test_different_seeds_give_different_populations() -> None:
    a = [identity(1, i) for i in range(20)]
    b = [identity(2, i) for i in range(20)]
    assert not {x.customer_id for x in a} & {y.customer_id for y in b}
    assert [x.name for x in a] != [y.name for y in b]


def test_emails_and_customer_ids_are_unique_over_five_thousand_traders() -> None:
    people = [identity(11, i) for i in range(5000)]
    assert len({p.email for p in people}) == 5000
    assert len({p.customer_id for p in people}) == 5000
    assert all(len(p.customer_id) <= 255 and p.email.isascii() for p in people)
    assert len({p.locale for p in people}) > 1, "the fixture's locales are all used"


def test_metadata_carries_name_email_and_country_as_strings() -> None:
    who = identity(3, 9)
    assert who.metadata() == {
        "name": who.name,
        "email": who.email,
        "country": who.country,
        "trader_index": "9",
    }


def _fixture(tmp_path: Path, **changes: object) -> Path:
    data = yaml.safe_load(DEFAULT_FILE.read_text())
    data.update(changes)
    for key, value in changes.items():
        if value is None:
            del data[key]
    path = tmp_path / "traders.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"locales": {"en_US": "many"}}, "locales.en_US"),
        ({"locales": {"xx_XX": 1}}, "locales.xx_XX"),
        ({"locales": {}}, "locales"),
        ({"personas": {"scalper": 1, "hodler": 2}}, "personas.hodler"),
        ({"email_domain": "not a domain"}, "email_domain"),
        ({"email_domain": None}, "email_domain"),
        ({"email_local": "{first}.{last}"}, "email_local"),
        ({"email_local": "{first}.{nickname}.{index}"}, "email_local"),
        ({"shoe_size": 44}, "shoe_size"),
        ({"actions_per_minute": {"scalper": 0}}, "actions_per_minute.scalper"),
        ({"actions_per_minute": {"hodler": 1}}, "actions_per_minute.hodler"),
        ({"actions_per_minute": [1, 2]}, "actions_per_minute"),
    ],
)
def test_a_malformed_fixture_is_refused_naming_the_field(
    tmp_path: Path, changes: dict[str, object], field: str
) -> None:
    path = _fixture(tmp_path, **changes)
    with pytest.raises(FixtureError) as caught:
        load_population(path)
    assert f"{path}: {field}:" in str(caught.value)


def test_a_fixture_that_is_not_yaml_or_missing_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "traders.yaml"
    bad.write_text("locales: [unclosed\n")
    with pytest.raises(FixtureError, match="not valid YAML"):
        load_population(bad)
    with pytest.raises(FixtureError, match="cannot read"):
        load_population(tmp_path / "missing.yaml")


def test_activity_rates_are_optional_and_read_per_persona(tmp_path: Path) -> None:
    assert load_population(_fixture(tmp_path, actions_per_minute=None)).actions_per_minute == {}
    rates = load_population(_fixture(tmp_path, actions_per_minute={"scalper": 90, "swing": 1.5}))
    assert rates.actions_per_minute == {"scalper": 90.0, "swing": 1.5}


def test_a_custom_fixture_changes_the_population(tmp_path: Path) -> None:
    path = _fixture(tmp_path, locales={"de_DE": 1}, email_domain="example.org")
    population = load_population(path)
    who = identity(5, 1, population)
    assert who.locale == "de_DE" and who.country == "DE" and who.email.endswith("@example.org")


def test_identities_drawn_on_many_threads_match_those_drawn_alone() -> None:
    """uat load onboards on 16 threads; a shared Faker seeded by one thread and drawn by another
    once gave a trader another's name."""
    from concurrent.futures import ThreadPoolExecutor

    alone = [identity(3, i) for i in range(400)]
    with ThreadPoolExecutor(16) as pool:
        together = list(pool.map(lambda i: identity(3, i), range(400)))
    assert together == alone


def test_the_order_of_the_fixtures_keys_does_not_change_who_a_trader_is(tmp_path: Path) -> None:
    data = yaml.safe_load(DEFAULT_FILE.read_text())
    data["locales"] = dict(reversed(list(data["locales"].items())))
    path = tmp_path / "traders.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    reordered = load_population(path)
    assert [identity(9, i, reordered) for i in range(50)] == [identity(9, i) for i in range(50)]
