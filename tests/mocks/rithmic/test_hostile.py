"""Hostile input: hypothesis throws malformed frames at the gateway. It never crashes, the attacking
connection still gets answers, and a bystander client keeps being served throughout."""

from __future__ import annotations

import asyncio
import logging
import math
import struct
from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mocks.rithmic.protocol import TEMPLATES_MAP, build, frame
from mocks.rithmic.runner import GatewayThread

from .conftest import RawClient, run

REQUESTS = sorted(
    t for t, c in TEMPLATES_MAP.items() if c.__name__.startswith("Request") and t not in (10, 12)
)


def _valid(template_id: int) -> bytes:
    return bytes(build(template_id, user_msg=["h"]).SerializeToString())


raw_bytes = st.binary(max_size=300)
prefixed_junk = raw_bytes.map(lambda b: struct.pack(">i", len(b)) + b)
lying_prefix = st.tuples(st.integers(-(2**31), 2**31 - 1), raw_bytes).map(
    lambda t: struct.pack(">i", t[0]) + t[1]
)
truncated = st.tuples(st.sampled_from(REQUESTS), st.integers(1, 40)).map(
    lambda t: frame(_valid(t[0])[: -t[1]] or b"\x80", True)
)
text_frames = st.text(max_size=50)


@st.composite
def nonsense_requests(draw: st.DrawFn) -> bytes:
    """A real request template with random values in its fields (NaN prices, huge quantities...)."""
    template_id = draw(st.sampled_from(REQUESTS))
    message = TEMPLATES_MAP[template_id]()
    message.template_id = template_id
    for field in message.DESCRIPTOR.fields:
        if field.name == "template_id" or not draw(st.booleans()):
            continue
        value: Any
        if field.type == FieldDescriptor.TYPE_STRING:
            value = draw(st.text(max_size=20))
        elif field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
            value = draw(st.sampled_from([math.nan, math.inf, -1.0, 0.0, 6800.25, 1e300]))
        elif field.type == FieldDescriptor.TYPE_BOOL:
            value = draw(st.booleans())
        elif field.type == FieldDescriptor.TYPE_ENUM:
            value = draw(st.integers(0, 10))
        elif field.type in (
            FieldDescriptor.TYPE_INT32,
            FieldDescriptor.TYPE_SINT32,
            FieldDescriptor.TYPE_UINT32,
        ):
            value = draw(st.integers(0 if field.type == FieldDescriptor.TYPE_UINT32 else -(2**31), 2**31 - 1))
        elif field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64):
            value = draw(st.integers(0, 2**63 - 1))
        else:
            continue
        if field.is_repeated:
            getattr(message, field.name).append(value)
        else:
            setattr(message, field.name, value)
    return frame(bytes(message.SerializeToString()), True)


frames = st.lists(
    st.one_of(raw_bytes, prefixed_junk, lying_prefix, truncated, text_frames, nonsense_requests()),
    min_size=1,
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=frames)
def test_malformed_frames_never_hurt_the_gateway_or_other_clients(
    gateway: GatewayThread, caplog: pytest.LogCaptureFixture, batch: list[bytes | str]
) -> None:
    creds = gateway.gateway.describe()

    async def scenario() -> None:
        bystander = await RawClient.open(gateway.url)
        attacker = await RawClient.open(gateway.url)
        try:
            assert list((await bystander.login(creds, infra_type=1)).rp_code) == ["0"]
            await bystander.send(100, symbol="ESZ6", exchange="CME", request=1, update_bits=1)
            await bystander.expect(150)
            assert list((await attacker.login(creds, infra_type=2)).rp_code) == ["0"]
            for item in batch:
                await attacker.ws.send(item)
            # the attacker's own connection still works: a heartbeat round trip
            # (the batch itself may hold valid heartbeats, whose replies come first)
            tag = await attacker.send(18)
            while list((await attacker.expect(19, timeout=3)).user_msg) != [tag]:
                pass
            # and the bystander's ticks kept flowing
            await bystander.expect(150)
            await bystander.expect(150)
        finally:
            await asyncio.gather(attacker.close(), bystander.close())

    run(scenario(), timeout=20)
    assert gateway.call(lambda: gateway.gateway._clock is not None and not gateway.gateway._clock.done())
    # every bad input was refused by validation, not by a handler blowing up
    assert not [
        r for r in caplog.records if r.name.startswith("mocks.rithmic") and r.levelno >= logging.ERROR
    ]
