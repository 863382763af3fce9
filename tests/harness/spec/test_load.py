"""Loading SPEC: files told apart by content, loopback URLs only, `reference`, and every way a
spec can be unreadable refused as a usage error (exit 2) that names the source and the problem."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from harness.exitcodes import EXIT_USAGE
from harness.spec import REFERENCE, SpecUnreadable, load
from tests.harness.spec import SPECS


def test_yaml_and_json_are_told_apart_by_content_not_extension(tmp_path: Path) -> None:
    yaml_text = (SPECS / "good.yaml").read_text()
    as_json = tmp_path / "spec.json"
    as_json.write_text(yaml_text)  # YAML in a .json file
    json_text = (SPECS / "bad-decimal-money.json").read_text()
    as_yaml = tmp_path / "spec.yaml"
    as_yaml.write_text(json_text)  # JSON in a .yaml file
    assert load(str(as_json)).document == load(str(SPECS / "good.yaml")).document
    assert load(str(as_yaml)).document == json.loads(json_text)


def test_yaml_scalars_become_what_json_holds(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("openapi: 3.0.3\ninfo: {title: t, version: 2024-01-02}\npaths:\n  /a:\n    get:\n"
                    "      responses:\n        200: {description: ok}\n")  # fmt: skip
    doc = load(str(spec)).document
    assert doc["info"]["version"] == "2024-01-02"
    assert list(doc["paths"]["/a"]["get"]["responses"]) == ["200"]


def test_reference_is_a_copy_of_the_reference_middlewares_published_spec() -> None:
    from reference_middleware.openapi import SPEC

    loaded = load(REFERENCE)
    assert loaded.source == "reference" and loaded.document == SPEC
    loaded.document["paths"].clear()
    assert SPEC["paths"], "the review must not be able to change the reference's spec"


def _refused(source: str) -> str:
    with pytest.raises(SpecUnreadable) as caught:
        load(source)
    assert caught.value.exit_code == EXIT_USAGE
    return caught.value.format_message()


def test_a_yaml_syntax_error_names_the_line_and_column() -> None:
    message = _refused(str(SPECS / "broken.yaml"))
    assert message.startswith(f"SPEC: {SPECS / 'broken.yaml'}: not valid YAML at line 9 column 3")


def test_a_json_syntax_error_names_the_line_and_column() -> None:
    message = _refused(str(SPECS / "broken.json"))
    assert message.startswith(f"SPEC: {SPECS / 'broken.json'}: not valid JSON at line 4 column 13")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "the document is empty, not a mapping"),
        ("- openapi: 3.0.3\n", "the document is a list, not a mapping"),
        ('"openapi"', "the document is a str, not a mapping"),
        ("[1, 2]", "the document is a list, not a mapping"),
    ],
)
def test_a_document_that_is_not_a_mapping_is_refused(tmp_path: Path, content: str, problem: str) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(content)
    assert _refused(str(spec)) == f"SPEC: {spec}: {problem} (an OpenAPI object)"


def test_missing_directory_and_binary_files_are_refused(tmp_path: Path) -> None:
    assert _refused(str(tmp_path / "nope.yaml")) == f"SPEC: {tmp_path / 'nope.yaml'}: no such file"
    assert "is a directory" in _refused(str(tmp_path))
    binary = tmp_path / "spec.yaml"
    binary.write_bytes(b"openapi: \xff\xfe\n")
    assert _refused(str(binary)) == f"SPEC: {binary}: not UTF-8 text (byte 9)"


@pytest.mark.parametrize("url", ["http://example.com/openapi.json", "https://10.1.2.3:8443/openapi.yaml"])
def test_a_url_that_is_not_loopback_is_refused_before_any_request(url: str) -> None:
    message = _refused(url)
    assert "refusing spec URL" in message and "only loopback" in message


class _Serve(BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        found = self.path == "/openapi.yaml"
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(self.body if found else b"not found")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def spec_server() -> Iterator[str]:
    _Serve.body = (SPECS / "good.yaml").read_bytes()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Serve)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_loopback_url_is_fetched(spec_server: str) -> None:
    loaded = load(f"{spec_server}/openapi.yaml")
    assert loaded.document == load(str(SPECS / "good.yaml")).document
    assert _refused(f"{spec_server}/missing") == (
        f"SPEC: {spec_server}/missing: answered HTTP 404, not 200 with the spec"
    )


def test_a_yaml_alias_that_contains_itself_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text("openapi: 3.0.3\npaths: &loop\n  /a: *loop\n")
    assert _refused(str(spec)) == f"SPEC: {spec}: a YAML alias contains itself: the document never ends"
    shared = tmp_path / "shared.yaml"  # an alias used twice is fine
    shared.write_text(
        "openapi: 3.0.3\nx-ok: &ok {description: ok}\npaths: {/a: {get: {responses: {'200': *ok}}}}\n"
    )
    assert load(str(shared)).document["paths"]["/a"]["get"]["responses"]["200"] == {"description": "ok"}
