"""async-rithmic's request matching, indexed.

The library matches every inbound message against every request in flight (RequestManager.
handle_response walks all of them), and every order notification goes through that walk before it
reaches our callback. Under a busy open hundreds of orders are in flight, so each notification
costs hundreds of comparisons; the slower the service gets, the more requests are in flight, and
the cost feeds on itself until answers pass the order timeout. Here the requests in flight are
indexed by the template id they expect and, when they carry one, by their user_msg, so a message
is compared only with the requests it could answer. Which request a message goes to is unchanged:
the first match in the order the requests were sent, by the library's own test.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from async_rithmic.helpers.request_manager import RequestManager

Key = tuple[Any, Any]
WILDCARD: Key = (None, None)  # an expectation without a template id could match anything


def _key(expected: dict[str, Any]) -> Key:
    if "template_id" not in expected:
        return WILDCARD
    user_msg = expected.get("user_msg")
    tag = user_msg[0] if isinstance(user_msg, list) and len(user_msg) == 1 else None
    return expected["template_id"], tag


class Expectations(dict[str, dict[str, Any]]):
    """The library's `expected_responses` dict, keeping an index beside it. The library adds with
    item assignment and removes with pop, and that is all this has to follow. The index maps a
    key to its requests, each with the sequence number it was sent under."""

    def __init__(self) -> None:
        super().__init__()
        self._order = itertools.count()
        self._buckets: dict[Key, dict[str, int]] = {}

    def __setitem__(self, request_id: str, expected: dict[str, Any]) -> None:
        if request_id in self:
            self._unindex(request_id)
        super().__setitem__(request_id, expected)
        self._buckets.setdefault(_key(expected), {})[request_id] = next(self._order)

    def __delitem__(self, request_id: str) -> None:
        self._unindex(request_id)
        super().__delitem__(request_id)

    def pop(self, request_id: str, *default: Any) -> Any:
        if request_id in self:
            self._unindex(request_id)
        return super().pop(request_id, *default)

    def _unindex(self, request_id: str) -> None:
        key = _key(self[request_id])
        bucket = self._buckets[key]
        del bucket[request_id]
        if not bucket:
            del self._buckets[key]

    def candidates(self, response: Any) -> Iterator[str]:
        """The requests `response` could answer, in the order they were sent."""
        template = getattr(response, "template_id", None)
        user_msg = getattr(response, "user_msg", None)
        keys = [(template, None), WILDCARD]
        if user_msg:
            keys.append((template, user_msg[0]))
        found = [(seq, rid) for key in keys for rid, seq in self._buckets.get(key, {}).items()]
        if len(found) > 1:
            found.sort()
        return (rid for _, rid in found)


class IndexedRequestManager(RequestManager):  # type: ignore[misc]
    def __init__(self, plant: Any) -> None:
        super().__init__(plant)
        self.expected_responses = Expectations()

    def handle_response(self, response: Any) -> bool | None:
        for request_id in self.expected_responses.candidates(response):
            expected = self.expected_responses[request_id]
            if all(getattr(response, k) == v for k, v in expected.items()):
                self.responses[request_id].append(response)
                return True
        return None


def install(client: Any) -> None:
    """Give each of the client's plants the indexed manager (before any request is sent)."""
    for plant in client.plants.values():
        plant.request_manager = IndexedRequestManager(plant)
