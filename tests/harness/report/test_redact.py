from __future__ import annotations

from harness.report import MASK, Redactor


def test_secret_values_under_secret_looking_keys_are_masked_everywhere() -> None:
    redact = Redactor()
    redact.add_from_mapping(
        {
            "mocks": {
                "tt": {"app_key": "key-123", "app_secret": "s3cr3t-xyz", "env": "ext_uat_cert"},
                "stripe": {"secret": "whsec_abcdef"},
                "rithmic": {"password": "pw-991", "user": "trader1"},
            },
            "postgres": {"dsn": "postgresql://postgres@127.0.0.1:5/uat"},
        }
    )
    text = "login trader1/pw-991 key-123:s3cr3t-xyz sig whsec_abcdef env ext_uat_cert db postgresql://postgres@127.0.0.1:5/uat"
    out = redact(text)
    for secret in (
        "pw-991",
        "key-123",
        "s3cr3t-xyz",
        "whsec_abcdef",
        "postgresql://postgres@127.0.0.1:5/uat",
    ):
        assert secret not in out
    assert "trader1" in out and "ext_uat_cert" in out
    assert out.count(MASK) == 5


def test_longest_secret_wins_and_short_values_are_left_alone() -> None:
    redact = Redactor(["abcd", "abcdef", "x"])
    assert redact("abcdef abcd x") == f"{MASK} {MASK} x"
    assert Redactor()("nothing to hide") == "nothing to hide"


def test_the_secret_files_path_is_not_a_secret_but_its_siblings_are() -> None:
    redact = Redactor()
    values = {"secrets": {"admin_key": "adm-0123456789", "file": "/tmp/uat-run-x/venue-secrets.json"}}
    redact.add_from_mapping(values)
    out = redact("reading /tmp/uat-run-x/venue-secrets.json with adm-0123456789")
    assert "/tmp/uat-run-x/venue-secrets.json" in out and "adm-0123456789" not in out
    from harness.security.sweep import known_secrets

    assert known_secrets(values) == {"secrets.admin_key": "adm-0123456789"}
