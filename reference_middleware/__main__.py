"""`python -m reference_middleware` serves the API; `--list-mutants` prints the seeded bugs."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import os
import sys

from .mutants import listing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reference_middleware", description=__doc__)
    parser.add_argument("--list-mutants", action="store_true", help="print one 'name: description' per line")
    args = parser.parse_args(argv)
    if args.list_mutants:
        print(listing())
        return 0
    import uvicorn

    from .api import create_app
    from .config import Config, ConfigError
    from .shutdown import DrainingServer

    try:
        cfg = Config.from_env()
    except ConfigError as exc:
        print(f"reference_middleware: configuration error: {exc}", file=sys.stderr)
        return 2
    from .logsafe import configure
    from .secretsource import SecretSource

    secrets = SecretSource.from_config(cfg)
    # every line scrubbed of the service's credentials (uvicorn's too: log_config=None below),
    # rotated ones included
    configure(
        os.environ.get("REFMW_LOG_LEVEL", "INFO"),
        cfg.secrets(),
        redacted=not cfg.mutant("secret_in_log"),
        live=secrets,
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    from . import gcpolicy

    gcpolicy.apply()
    host = os.environ.get("REFMW_HOST", "127.0.0.1")
    app = create_app(cfg, secrets)
    config = uvicorn.Config(
        app,
        host=host,
        port=cfg.port,
        log_level="warning",
        lifespan="on",
        timeout_keep_alive=cfg.keepalive_s,
        log_config=None,  # uvicorn's loggers go through the root handler, which redacts
        # the admin allowlist judges the TCP peer: uvicorn would otherwise take the client address
        # from X-Forwarded-For on connections from 127.0.0.1, and anyone can send that header
        proxy_headers=False,
        forwarded_allow_ips="",
        # SIGTERM: stop accepting, let requests in flight finish (up to this), then stop the service
        timeout_graceful_shutdown=max(1, math.ceil(cfg.shutdown_grace_s)),
    )
    server = DrainingServer(config, app.state.drain)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0 if server.started else 3  # uvicorn.run's exit code for a failed start-up


if __name__ == "__main__":
    raise SystemExit(main())
