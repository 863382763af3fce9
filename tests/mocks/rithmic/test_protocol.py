"""Framing, dispatch and completion rules, seen from a raw R|Protocol client."""

from __future__ import annotations

import pytest

from mocks.rithmic.protocol import FrameError, build, decode, detect_prefixed, frame
from mocks.rithmic.runner import GatewayThread

from .conftest import Control, RawClient, run


def test_detects_the_length_prefix_and_rejects_a_lying_one() -> None:
    payload = build(18, user_msg=["x"]).SerializeToString()
    assert detect_prefixed(frame(payload, True)) and not detect_prefixed(payload)
    assert decode(frame(payload, True), True)[0] == 18 and decode(payload, False)[0] == 18
    with pytest.raises(FrameError, match="length prefix"):
        decode(b"\x00\x00\x00\xc8" + payload, True)  # claims 200 bytes
    with pytest.raises(FrameError, match="unknown template id 4242"):
        decode(_template(4242), False)


def _template(template_id: int) -> bytes:
    message = build(75)
    message.template_id = template_id
    return bytes(message.SerializeToString())


@pytest.mark.parametrize("prefixed", [True, False])
def test_the_gateway_mirrors_the_clients_framing(gateway: GatewayThread, prefixed: bool) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url, prefixed=prefixed)
        try:
            await raw.send(16, user_msg=["sys-1", "extra"])
            buf = await raw.recv_raw()
            assert detect_prefixed(buf) is prefixed
            tid, info = decode(buf, prefixed)
            assert tid == 17 and list(info.user_msg) == ["sys-1", "extra"]  # user_msg echoed whole
            assert "Rithmic Test" in info.system_name and list(info.rp_code) == ["0"]
        finally:
            await raw.close()

    run(scenario())


def test_requests_before_login_are_rejected_and_bad_logins_refused(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url)
        creds = gateway.gateway.describe()
        try:
            await raw.send(312, user_msg=["early"], symbol="ESZ6", exchange="CME", quantity=1)
            reject = await raw.expect(75)
            assert list(reject.user_msg) == ["early"] and reject.rp_code[0] == "13"
            bad = await raw.login({**creds, "password": "nope"}, infra_type=2)
            assert list(bad.rp_code) == ["13", "permission denied"] and not bad.fcm_id
            ok = await raw.login(creds, infra_type=2)
            assert list(ok.rp_code) == ["0"] and ok.heartbeat_interval == 2.0 and ok.fcm_id == "UATFCM"
            again = await raw.login(creds, infra_type=2)
            assert again.rp_code[0] != "0"
        finally:
            await raw.close()

    run(scenario())


def test_multi_row_replies_end_with_a_bare_rp_code(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url)
        try:
            await raw.login(gateway.gateway.describe(), infra_type=2)
            tag = await raw.send(310, subscribe_for_updates=True)
            rows = []
            while True:
                message = await raw.expect(311)
                assert list(message.user_msg) == [tag]
                if message.rp_code:
                    break
                assert list(message.rq_handler_rp_code) == ["0"]
                rows.append(message.exchange)
            assert list(message.rp_code) == ["0"] and not message.exchange
            assert sorted(rows) == ["CME", "COMEX", "NYMEX"]
            # a request the mock does not model: "no data" (7), still echoing user_msg
            tag = await raw.send(304)
            answer = await raw.expect(305)
            assert list(answer.user_msg) == [tag] and answer.rp_code[0] == "7"
        finally:
            await raw.close()

    run(scenario())


def test_unprefixed_clients_get_unprefixed_ticks(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url, prefixed=False)
        try:
            assert list((await raw.login(gateway.gateway.describe())).rp_code) == ["0"]
            await raw.send(100, symbol="CLF7", exchange="NYMEX", request=1, update_bits=3)
            kinds: set[int] = set()
            while kinds != {150, 151}:
                buf = await raw.recv_raw()
                assert not detect_prefixed(buf)
                tid, tick = decode(buf, False)
                if tid in (150, 151):
                    kinds.add(tid)
                    assert tick.symbol == "CLF7"
        finally:
            await raw.close()

    run(scenario())


def test_reset_clears_orders_faults_and_ledger_but_keeps_sessions(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url)
        control = Control(gateway)
        try:
            await raw.login(gateway.gateway.describe(), infra_type=2)
            await raw.send(
                312,
                user_tag="pre-reset",
                account_id="UAT-0001",
                symbol="ESZ6",
                exchange="CME",
                quantity=1,
                transaction_type=1,
                price_type=2,
                duration=1,
                trade_route="simulator",
            )
            assert (await raw.expect(313)).basket_id
            await control.arm("silent", {"plant": "ticker"})
            assert (await control.ledger())["orders"]
            assert (await control.http.post("/reset")).status_code == 204
            ledger = await control.ledger()
            assert ledger["orders"] == [] and ledger["fills"] == []
            assert (await control.http.get("/faults")).json()["armed"] == []
            assert gateway.call(lambda: len(gateway.gateway.engine.orders)) == 0
            tag = await raw.send(18)
            while list((await raw.expect(19)).user_msg) != [tag]:
                pass
        finally:
            await control.close()
            await raw.close()

    run(scenario())


def test_stats_route_reports_sessions_and_fan_out(gateway: GatewayThread) -> None:
    async def scenario() -> None:
        raw = await RawClient.open(gateway.url)
        control = Control(gateway)
        try:
            await raw.login(gateway.gateway.describe())
            await raw.send(100, symbol="ESZ6", exchange="CME", request=1, update_bits=1)
            await raw.expect(150)
            stats = (await control.http.get("/stats")).json()
            assert stats["sessions"] == {"ticker": 1}
            assert stats["feed"]["subscriptions"] == 1 and stats["feed"]["frames_sent"] >= 1
            assert stats["clock"]["periods"] >= 1
        finally:
            await control.close()
            await raw.close()

    run(scenario())
