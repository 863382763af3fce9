"""Seeded trader identities from `fixtures/traders.yaml`.

An identity is a pure function of (seed, index): Faker is seeded per trader rather than once per
process, so a Locust master and any number of workers, on any machine, agree on who trader 17
is, and a rerun with the same seed onboards the same population. Emails and customer ids carry
the index, so they stay unique however Faker's names collide.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import threading
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import cache
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from faker import Faker

from ..resources import FIXTURES, data

DEFAULT_FILE = data(FIXTURES, "traders.yaml")  # package data: found installed or checked out
PERSONAS = ("scalper", "swing", "watcher", "backoffice")
_FAKER_LOCK = threading.Lock()
_FIELDS = ("locales", "personas", "email_domain", "email_local", "customer_prefix", "actions_per_minute")


class FixtureError(ValueError):
    """The fixtures file is malformed; the message names the file and the field."""


@dataclass(frozen=True)
class Population:
    """What fixtures/traders.yaml says a population looks like."""

    locales: dict[str, int]
    personas: dict[str, int]
    email_domain: str
    email_local: str
    customer_prefix: str
    source: str = "fixtures/traders.yaml"
    # Locust tasks a minute for each persona at a rate multiplier of 1 (absent: the class default)
    actions_per_minute: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> str:
        """For Locust's options: a master sends its population to workers on other machines."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Population:
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Identity:
    index: int
    customer_id: str
    first_name: str
    last_name: str
    email: str
    country: str
    locale: str

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def metadata(self) -> dict[str, str]:
        """What the Stripe checkout carries to the middleware (strings only, as Stripe's metadata)."""
        return {
            "name": self.name,
            "email": self.email,
            "country": self.country,
            "trader_index": str(self.index),
        }


def load_population(path: str | os.PathLike[str] | None = None) -> Population:
    """Read and validate a traders fixture; `$UAT_FIXTURES` overrides the bundled directory."""
    fixture: Traversable
    if path is not None:
        fixture = Path(path)
    elif os.environ.get("UAT_FIXTURES"):
        fixture = Path(os.environ["UAT_FIXTURES"]) / "traders.yaml"
    else:
        fixture = DEFAULT_FILE
    source = str(fixture)
    try:
        raw = yaml.safe_load(fixture.read_text())
    except OSError as exc:
        raise FixtureError(f"{source}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise FixtureError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise FixtureError(f"{source}: must be a mapping of {', '.join(_FIELDS)}")
    unknown = sorted(set(raw) - set(_FIELDS))
    if unknown:
        raise FixtureError(f"{source}: {unknown[0]}: unknown field (known: {', '.join(_FIELDS)})")
    locales = _weights(raw, "locales", source)
    for locale in locales:
        try:
            Faker(locale)
        except AttributeError:
            raise FixtureError(f"{source}: locales.{locale}: not a Faker locale") from None
    personas = _weights(raw, "personas", source)
    for persona in personas:
        if persona not in PERSONAS:
            raise FixtureError(
                f"{source}: personas.{persona}: unknown persona (known: {', '.join(PERSONAS)})"
            )
    domain = _text(raw, "email_domain", source)
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
        raise FixtureError(f"{source}: email_domain: {domain!r} is not a domain name")
    local = _text(raw, "email_local", source)
    if "{index}" not in local:
        raise FixtureError(f"{source}: email_local: must contain {{index}}, or emails could collide")
    try:
        local.format(first="a", last="b", index=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise FixtureError(
            f"{source}: email_local: bad placeholder {exc} (use {{first}} {{last}} {{index}})"
        ) from None
    prefix = _text(raw, "customer_prefix", source)
    return Population(locales, personas, domain, local, prefix, source, _rates(raw, source))


def _rates(raw: dict[str, Any], source: str) -> dict[str, float]:
    value = raw.get("actions_per_minute")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FixtureError(f"{source}: actions_per_minute: must be a mapping of persona to actions a minute")
    rates: dict[str, float] = {}
    for persona, rate in value.items():
        if persona not in PERSONAS:
            raise FixtureError(
                f"{source}: actions_per_minute.{persona}: unknown persona (known: {', '.join(PERSONAS)})"
            )
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
            raise FixtureError(
                f"{source}: actions_per_minute.{persona}: must be a number above 0, not {rate!r}"
            )
        rates[str(persona)] = float(rate)
    return rates


def identity(seed: int, index: int, population: Population | None = None) -> Identity:
    """Trader `index` of the population that `seed` fixes."""
    pop = population or _bundled()
    rng = random.Random(f"stack-uat:{seed}:{index}")
    locales = sorted(pop.locales)  # by name: a fixture's key order must not change who trader n is
    locale = rng.choices(locales, weights=[pop.locales[name] for name in locales])[0]
    fake = _faker(locale)
    with _FAKER_LOCK:  # one Faker per locale is shared: seeding and drawing must not interleave
        fake.seed_instance(f"stack-uat:{seed}:{index}")
        first, last = fake.first_name(), fake.last_name()
        country = fake.current_country_code()
    local = pop.email_local.format(first=_ascii(first), last=_ascii(last), index=index)
    digest = hashlib.sha256(f"stack-uat:{seed}".encode()).hexdigest()[:6]
    return Identity(
        index=index,
        customer_id=f"{pop.customer_prefix}{digest}{index:08x}",
        first_name=first,
        last_name=last,
        email=f"{local}@{pop.email_domain}",
        country=country,
        locale=locale,
    )


def _weights(raw: dict[str, Any], field: str, source: str) -> dict[str, int]:
    value = raw.get(field)
    if not isinstance(value, dict) or not value:
        raise FixtureError(f"{source}: {field}: must be a non-empty mapping of name to weight")
    for name, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise FixtureError(
                f"{source}: {field}.{name}: weight must be a whole number >= 0, not {weight!r}"
            )
    if not any(value.values()):
        raise FixtureError(f"{source}: {field}: at least one weight must be above 0")
    return {str(k): int(v) for k, v in value.items()}


def _text(raw: dict[str, Any], field: str, source: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip():
        raise FixtureError(f"{source}: {field}: must be a non-empty string")
    return value.strip()


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "", folded) or "trader"


@cache
def _faker(locale: str) -> Faker:
    return Faker(locale)


@cache
def _bundled() -> Population:
    return load_population()


__all__ = ["FixtureError", "Identity", "Population", "identity", "load_population"]
