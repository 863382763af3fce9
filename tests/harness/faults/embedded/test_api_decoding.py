"""How Toxiproxy 2.12 decodes request bodies, where it matters to a client: which bad field a
400 names, and what a failed update leaves applied.

Go's encoding/json visits keys in body order and does not stop at a value of the wrong type:
it skips the field, keeps the first error (`saveError`), and sets every other field. Toxic
updates decode straight into the live toxic (toxic_collection.go UpdateToxicJson), so the
attributes that fitted stay applied after a 400; proxy updates decode into a copy (api.go
ProxyUpdate), so a 400 there changes nothing.
"""

from __future__ import annotations

import httpx
import pytest

from harness.ports import free_port

from .test_api import add_toxic, assert_api_error, create

_UNMARSHAL = "bad request body: json: cannot unmarshal"


@pytest.fixture
def upstream() -> str:
    return f"localhost:{free_port()}"


# -- the first bad field in body order ----------------------------------------------------------
def test_proxy_error_names_the_first_bad_field_in_body_order(http: httpx.Client) -> None:
    """The old decoder checked name, listen, upstream, enabled in that order whatever the body."""
    resp = http.post("/proxies", content=b'{"listen": 5, "name": 6}')
    assert_api_error(resp, 400, f"{_UNMARSHAL} number into Go struct field Proxy.listen of type string")
    resp = http.post("/proxies", content=b'{"enabled": "on", "upstream": 1}')
    assert_api_error(resp, 400, f"{_UNMARSHAL} string into Go struct field Proxy.enabled of type bool")


def test_toxic_error_names_the_first_bad_field_in_body_order(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", content=b'{"toxicity": "x", "type": 5}')
    assert_api_error(
        resp, 400, f"{_UNMARSHAL} string into Go struct field ToxicWrapper.toxicity of type float32"
    )
    resp = http.post("/proxies/p/toxics", content=b'{"attributes": [], "name": 1}')
    assert_api_error(
        resp, 400, f"{_UNMARSHAL} array into Go struct field ToxicWrapper.attributes of type toxics.NoopToxic"
    )


def test_patch_error_names_attributes_before_a_later_toxicity(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="l")
    resp = http.patch("/proxies/p/toxics/l", content=b'{"attributes": {"latency": "1"}, "toxicity": "x"}')
    assert_api_error(
        resp, 400, f"{_UNMARSHAL} string into Go struct field LatencyToxic.attributes.latency of type int64"
    )


@pytest.mark.parametrize(
    "body",
    [
        b'{"type": "latency", "attributes": {"Latency": "x", "latency": 5}}',
        b'{"type": "latency", "attributes": {"latency": "x", "latency": 5}}',
        b'{"type": "latency", "attributes": {"latency": "x"}, "attributes": {"latency": 5}}',
    ],
    ids=["case-variant", "repeated-key", "repeated-attributes"],
)
def test_a_bad_value_is_reported_even_when_a_later_duplicate_fits(
    http: httpx.Client, upstream: str, body: bytes
) -> None:
    """Go decodes every occurrence of a key in turn; the first one's error is kept."""
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", content=body)
    assert_api_error(
        resp, 400, f"{_UNMARSHAL} string into Go struct field LatencyToxic.attributes.latency of type int64"
    )


def test_repeated_attributes_objects_merge(http: httpx.Client, upstream: str) -> None:
    """Each `attributes` object is decoded into the same toxic, so both contribute."""
    create(http, "p", "localhost:0", upstream)
    body = b'{"type": "latency", "attributes": {"latency": 5}, "attributes": {"jitter": 2}}'
    resp = http.post("/proxies/p/toxics", content=body)
    assert resp.status_code == 200, resp.text
    assert resp.json()["attributes"] == {"latency": 5, "jitter": 2}


# -- what a failed update leaves applied --------------------------------------------------------
def test_failed_toxic_patch_keeps_the_attributes_that_fitted(http: httpx.Client, upstream: str) -> None:
    """Before and after the bad field alike; the toxicity is only set on a clean decode."""
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="l", toxicity=0.5, attributes={"latency": 1, "jitter": 1})
    body = b'{"toxicity": 0.25, "attributes": {"latency": 7, "jitter": "x"}}'
    resp = http.patch("/proxies/p/toxics/l", content=body)
    assert_api_error(
        resp, 400, f"{_UNMARSHAL} string into Go struct field LatencyToxic.attributes.jitter of type int64"
    )
    toxic = http.get("/proxies/p/toxics/l").json()
    assert toxic["attributes"] == {"latency": 7, "jitter": 1}
    assert toxic["toxicity"] == 0.5

    resp = http.patch("/proxies/p/toxics/l", content=b'{"attributes": {"jitter": 3}, "toxicity": "x"}')
    assert resp.status_code == 400
    toxic = http.get("/proxies/p/toxics/l").json()
    assert toxic["attributes"] == {"latency": 7, "jitter": 3}
    assert toxic["toxicity"] == 0.5


def test_failed_toxic_patch_after_the_bad_field_still_applies(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="l", attributes={"latency": 1, "jitter": 1})
    resp = http.patch("/proxies/p/toxics/l", content=b'{"attributes": {"latency": 2.5, "jitter": 9}}')
    assert resp.status_code == 400
    assert http.get("/proxies/p/toxics/l").json()["attributes"] == {"latency": 1, "jitter": 9}


def test_syntax_error_applies_nothing(http: httpx.Client, upstream: str) -> None:
    """Go's Decoder scans the whole value before decoding any of it."""
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="latency", name="l", attributes={"latency": 1})
    resp = http.patch("/proxies/p/toxics/l", content=b'{"attributes": {"latency": 4}, "toxicity": }')
    assert resp.status_code == 400
    assert http.get("/proxies/p/toxics/l").json()["attributes"]["latency"] == 1


def test_failed_proxy_patch_applies_nothing(http: httpx.Client, upstream: str) -> None:
    """Unlike toxics, Go's ProxyUpdate decodes into a local copy and returns on the error."""
    created = create(http, "p", "localhost:0", upstream)
    resp = http.patch("/proxies/p", content=b'{"upstream": "localhost:1", "enabled": 1}')
    assert_api_error(resp, 400, f"{_UNMARSHAL} number into Go struct field Proxy.enabled of type bool")
    assert http.get("/proxies/p").json() == created


# -- the extensions' attributes -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("toxic_type", "attributes", "message"),
    [
        (
            "packet_loss",
            {"good_to_bad_ppm": 2_000_000},
            "packet_loss good_to_bad_ppm must be between 0 and 1000000, got 2000000",
        ),
        ("packet_loss", {"rto_ms": 0}, "packet_loss rto_ms must be at least 1, got 0"),
        ("packet_loss", {"segment_size": -5}, "packet_loss segment_size must be at least 1, got -5"),
        ("corrupt", {"byte_ppm": -1}, "corrupt byte_ppm must be between 0 and 1000000, got -1"),
        (
            "packet_loss",
            {"bad_loss_ppm": "all"},
            "json: cannot unmarshal string into Go struct field "
            "PacketLossToxic.attributes.bad_loss_ppm of type int64",
        ),
        (
            "corrupt",
            {"byte_ppm": 0.5},
            "json: cannot unmarshal number 0.5 into Go struct field "
            "CorruptToxic.attributes.byte_ppm of type int64",
        ),
    ],
)
def test_extension_attributes_are_checked_by_name(
    http: httpx.Client, upstream: str, toxic_type: str, attributes: dict[str, object], message: str
) -> None:
    create(http, "p", "localhost:0", upstream)
    resp = http.post("/proxies/p/toxics", json={"type": toxic_type, "attributes": attributes})
    assert_api_error(resp, 400, f"bad request body: {message}")
    assert http.get("/proxies/p/toxics").json() == []


def test_extension_attributes_have_defaults(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    loss = add_toxic(http, "p", type="packet_loss", attributes={"rto_ms": 50})
    assert loss["name"] == "packet_loss_downstream"
    assert loss["attributes"] == {
        "segment_size": 1448,
        "good_to_bad_ppm": 10_000,
        "bad_to_good_ppm": 250_000,
        "good_loss_ppm": 0,
        "bad_loss_ppm": 250_000,
        "rto_ms": 50,
        "max_rto_ms": 120_000,
        "seed": 0,
    }
    corrupt = add_toxic(http, "p", type="corrupt", stream="upstream")
    assert corrupt["attributes"] == {"byte_ppm": 1000, "seed": 0}


def test_extension_patch_out_of_range_keeps_the_rest(http: httpx.Client, upstream: str) -> None:
    create(http, "p", "localhost:0", upstream)
    add_toxic(http, "p", type="packet_loss", name="loss")
    body = {"attributes": {"rto_ms": 10, "bad_loss_ppm": 1_000_001, "seed": 4}}
    resp = http.patch("/proxies/p/toxics/loss", json=body)
    assert_api_error(
        resp, 400, "bad request body: packet_loss bad_loss_ppm must be between 0 and 1000000, got 1000001"
    )
    attributes = http.get("/proxies/p/toxics/loss").json()["attributes"]
    assert (attributes["rto_ms"], attributes["bad_loss_ppm"], attributes["seed"]) == (10, 250_000, 4)
