"""Load profiles, selectable by name. A profile says how many traders are on at time t and how
hard they trade (a rate multiplier the users read), for a run of a given length.

| Profile | Shape |
|---|---|
| steady | N traders, ramped in over 10 s, trading at the base rate |
| market-open | 0 -> N traders in 60 s (or a third of a short run), an order burst at the open |
| news-spike | N traders; the order rate goes 10x for 30 s in the middle of the run |
| overnight-thin | a tenth of N, at a quarter of the base rate |
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    name: str
    traders: int
    duration_s: float

    def users_at(self, t: float) -> int:
        n = self.traders
        if self.name == "overnight-thin":
            n = max(1, n // 10)
        ramp = self.ramp_s
        return n if t >= ramp else max(1, round(n * t / ramp)) if ramp > 0 else n

    @property
    def peak(self) -> int:
        """The most traders on at once."""
        return max(1, self.traders // 10) if self.name == "overnight-thin" else self.traders

    @property
    def ramp_s(self) -> float:
        if self.name == "market-open":
            return min(60.0, self.duration_s / 3)
        return min(10.0, self.duration_s / 6)

    def spawn_rate(self) -> float:
        """Users started per second: fast enough to follow `users_at`."""
        return max(1.0, self.users_at(self.duration_s) / max(self.ramp_s, 1.0))

    def rate_multiplier(self, t: float) -> float:
        if self.name == "overnight-thin":
            return 0.25
        if self.name == "news-spike":
            middle = self.duration_s / 2
            half = min(15.0, self.duration_s / 6)
            return 10.0 if middle - half <= t < middle + half else 1.0
        if self.name == "market-open":
            # The opening auction: the first 10 s after the ramp trade at 5x.
            return 5.0 if self.ramp_s <= t < self.ramp_s + 10 else 1.0
        return 1.0


PROFILES = ("steady", "market-open", "news-spike", "overnight-thin")


def profile(name: str, traders: int, duration_s: float) -> Profile:
    if name not in PROFILES:
        raise ValueError(f"--profile: unknown profile {name!r} (known: {', '.join(PROFILES)})")
    if traders < 1:
        raise ValueError(f"--traders: must be at least 1, got {traders}")
    if duration_s <= 0:
        raise ValueError(f"--duration: must be longer than 0, got {duration_s:g}")
    return Profile(name, traders, duration_s)
