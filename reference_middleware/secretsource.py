"""Venue credentials that can be rotated without a restart (REFMW_SECRETS_FILE).

Venues rotate a secret with an overlap: the new value works at once, the old one only for a grace
period. A service that read its secrets once at start logs in with a revoked password at its next
reconnect, so the secrets file is watched instead: polled every REFMW_SECRETS_POLL_S (its inode,
mtime and size, then its content) and re-read at once on SIGHUP. Users read through `get` at the
moment they need a value (a Rithmic login, a TT token request, a webhook's verification), so a new
value applies to the next use and nothing already established is dropped.

The file is a JSON object of strings keyed by the variable each one overrides. A version that does
not parse keeps the last good values, and so does a missing file once the service has started. A key
later dropped from the file keeps its last value rather than falling back to the environment's. No
log line here ever holds a value: names, counts and reasons only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Mapping

from .config import Config, ConfigError

log = logging.getLogger("refmw.secrets")
FILE_VAR = "REFMW_SECRETS_FILE"
RITHMIC_PASSWORD = "REFMW_RITHMIC_PASSWORD"
TT_APP_SECRET = "REFMW_TT_APP_SECRET"
STRIPE_SECRETS = "REFMW_STRIPE_WEBHOOK_SECRET"
KEYS = (RITHMIC_PASSWORD, TT_APP_SECRET, STRIPE_SECRETS)
Signature = tuple[int, int, int]  # inode, mtime_ns, size: os.replace changes the inode


class SecretsFileError(ValueError):
    """The file cannot be used; the message names no value."""


def parse(raw: bytes) -> dict[str, str]:
    """Every entry of the file (known or not), or SecretsFileError saying why not."""
    try:
        data = json.loads(raw)
    except UnicodeDecodeError:
        raise SecretsFileError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:  # its message quotes a position, never the text
        raise SecretsFileError(f"not valid JSON (line {exc.lineno} column {exc.colno})") from None
    if not isinstance(data, dict):
        raise SecretsFileError(f"not a JSON object (a {type(data).__name__})")
    for name, value in data.items():
        if not isinstance(value, str):
            raise SecretsFileError(f"{name} is not a string (a {type(value).__name__})")
        if name in KEYS and not value.strip(" ,"):
            raise SecretsFileError(f"{name} is empty")
    return data


def read(path: str) -> dict[str, str]:
    """The file's known keys, at start (Config.from_env): ConfigError naming REFMW_SECRETS_FILE."""
    try:
        with open(path, "rb") as fh:
            entries = parse(fh.read())
    except FileNotFoundError:
        raise ConfigError(f"{FILE_VAR}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{FILE_VAR}: cannot be read: {exc.strerror}") from None
    except SecretsFileError as exc:
        raise ConfigError(f"{FILE_VAR}: {exc}") from None
    return {k: v for k, v in entries.items() if k in KEYS}


def split_stripe(raw: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in raw.split(",") if s.strip())


class SecretSource:
    """The live value of each rotatable secret. `live=False` is the secrets_read_once build: the
    start-up values for good (no poll, and SIGHUP is swallowed)."""

    def __init__(
        self, initial: Mapping[str, str], path: str = "", poll_s: float = 1.0, *, live: bool = True
    ) -> None:
        self.path = path
        self.poll_s = poll_s
        self.live = live
        self.values: dict[str, str] = {k: initial[k] for k in KEYS if k in initial}
        self.reloads = 0
        self.version = 0  # bumped whenever a value changes (the log masker's cache key)
        self._seen: set[str] = set()  # every value ever held, still masked in the log after rotation
        self._remember()
        self._signature: Signature | None = None
        self._content: bytes | None = None
        self._warned_unknown: set[str] = set()
        self._missing_logged = False
        self._bad_logged: Signature | None = None
        self._task: asyncio.Task[None] | None = None
        self._hup_installed = False
        self._loaded = False

    @classmethod
    def from_config(cls, cfg: Config) -> SecretSource:
        """The start-up values (the environment, overridden by the file) and the file to watch."""
        initial = {
            RITHMIC_PASSWORD: cfg.rithmic_password,
            TT_APP_SECRET: cfg.tt_app_secret,
            STRIPE_SECRETS: ",".join(cfg.stripe_secrets),
        }
        live = not cfg.mutant("secrets_read_once")
        return cls(initial, cfg.secrets_file, cfg.secrets_poll_s, live=live)

    # ------------------------------------------------------------------ reading
    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def stripe_secrets(self) -> tuple[str, ...]:
        return split_stripe(self.get(STRIPE_SECRETS))

    def known(self) -> frozenset[str]:
        """Every value held since start, each Stripe secret on its own: what the log must mask."""
        return frozenset(self._seen)

    def _remember(self) -> None:
        for name, value in self.values.items():
            self._seen.update(split_stripe(value) if name == STRIPE_SECRETS else (value,))

    # ------------------------------------------------------------------ reloading
    def load(self) -> None:
        """The first read, at start (after logging is set up): it counts as no reload."""
        if self.path and not self._loaded:
            self._loaded = True
            self._check(force=True, at_start=True)

    def check(self, *, force: bool = False) -> bool:
        """Re-read the file if it changed (always, with `force`); True when a new version applied."""
        if not self.path or not self.live:
            return False
        self.load()
        return self._check(force=force)

    def _check(self, *, force: bool, at_start: bool = False) -> bool:
        try:
            st = os.stat(self.path)
            signature = (st.st_ino, st.st_mtime_ns, st.st_size)
            if not force and signature == self._signature:
                return False
            with open(self.path, "rb") as fh:
                content = fh.read()
        except OSError as exc:
            if not self._missing_logged:
                what = "no such file" if isinstance(exc, FileNotFoundError) else f"unreadable: {exc.strerror}"
                log.warning("%s: %s: keeping the last good secrets", FILE_VAR, what)
                self._missing_logged = True
            return False
        self._missing_logged = False
        self._signature = signature
        if content == self._content:
            if force and not at_start:
                log.info("secrets file re-read: unchanged (reloads %d)", self.reloads)
            return False
        try:
            entries = parse(content)
        except SecretsFileError as exc:
            if self._bad_logged != signature:
                log.error("%s: %s: keeping the last good secrets", FILE_VAR, exc)
                self._bad_logged = signature
            return False
        self._content = content
        unknown = sorted(set(entries) - set(KEYS) - self._warned_unknown)
        if unknown:
            log.warning("%s: ignoring keys this service does not use: %s", FILE_VAR, ", ".join(unknown))
            self._warned_unknown.update(unknown)
        changed = sorted(k for k in KEYS if k in entries and entries[k] != self.values.get(k))
        for name in changed:
            self.values[name] = entries[name]
        if changed:
            self._remember()
            self.version += 1
        if not at_start:
            self.reloads += 1
            log.info(
                "secrets file reloaded (reloads %d): changed %s",
                self.reloads,
                ", ".join(changed) if changed else "nothing",
            )
        return True

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """The poll task and the SIGHUP handler (a no-op without a file)."""
        if not self.path:
            return
        self.load()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(AttributeError, NotImplementedError, RuntimeError, ValueError):
            # no SIGHUP on Windows; add_signal_handler only works on the main thread's loop
            loop.add_signal_handler(signal.SIGHUP, self._hangup)
            self._hup_installed = True
        if self.live:
            self._task = asyncio.create_task(self._poll(), name="secrets-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._hup_installed:
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
            self._hup_installed = False

    def _hangup(self) -> None:
        if not self.live:
            log.info("SIGHUP ignored: secrets are read once at start")
            return
        self.check(force=True)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                self.check()
            except Exception:  # a bug here must not end the watch for good
                log.exception("secrets file check failed")
