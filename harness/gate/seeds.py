"""The gate's seed when none is given: drawn once per run (or once for all the runs of `--repeat`)
and always printed, so any run can be reproduced."""

from __future__ import annotations

import os


def draw_seed() -> int:
    return int.from_bytes(os.urandom(3), "big")
