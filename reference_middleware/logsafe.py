"""No credential in the log: every formatted line, traceback included, is scrubbed before it is written.

The service's own log calls name no secret, but a library's may (async_rithmic logs its login
request, password included, at DEBUG), and an exception's text can quote a DSN. So the handler's
formatter replaces each configured secret, and any `Bearer <token>` or `password=...`, with a mask.
"""

from __future__ import annotations

import logging
import re
import sys

MASK = "[REDACTED]"
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"(?i)((?:password|passwd|secret)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+"),
    re.compile(r"(?i)(://[^:/@\s]+:)[^@\s]+(?=@)"),  # user:password@ in a URL
)


class RedactingFormatter(logging.Formatter):
    def __init__(self, fmt: str, secrets: tuple[str, ...]) -> None:
        super().__init__(fmt)
        # longest first, so a secret that contains another is masked whole
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


def configure(level: str, secrets: tuple[str, ...], *, redacted: bool = True) -> None:
    """The root logger to stdout, redacting unless `redacted` is False (the secret_in_log mutant)."""
    fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter(fmt, secrets) if redacted else logging.Formatter(fmt))
    logging.basicConfig(level=level, handlers=[handler], force=True)
