"""Fewer young collections in the harness's long-running processes.

The mocks and the fault plane share one process, and Locust runs thousands of traders in
another. With CPython's default (a young collection every 700 net allocations), objects in
flight for a few milliseconds are promoted and later swept by full collections, which stop
every mock venue, or every trader, at once: a fault no schedule asked for. The reference
middleware does the same for the same reason (reference_middleware/gcpolicy.py).
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 50_000


def relax() -> None:
    young, middle, old = gc.get_threshold()
    gc.set_threshold(max(YOUNG_THRESHOLD, young), middle, old)
