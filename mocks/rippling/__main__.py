"""`python -m mocks.rippling`: the Rippling REST mock and its control API, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses

from mocks.common.standalone import serve

from .venue import DEFAULT_RETRY, RipplingMock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mocks.rippling", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="REST port (0: any free port)")
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--listener", action="append", default=[], help="a webhook listener URL (repeatable)")
    parser.add_argument("--listener-token", default=None, help="a Bearer token sent to --listener URLs")
    parser.add_argument(
        "--allow-host", action="append", default=[], help="a non-loopback host webhooks may be sent to"
    )
    parser.add_argument("--retry-base-ms", type=float, default=DEFAULT_RETRY.base_delay_s * 1000)
    parser.add_argument("--max-attempts", type=int, default=DEFAULT_RETRY.max_attempts)
    args = parser.parse_args(argv)
    if args.retry_base_ms < 0 or args.max_attempts < 1:
        parser.error("--retry-base-ms must be >= 0 and --max-attempts >= 1")
    retry = dataclasses.replace(
        DEFAULT_RETRY, base_delay_s=args.retry_base_ms / 1000, max_attempts=args.max_attempts
    )
    try:
        venue = RipplingMock(
            args.seed,
            retry=retry,
            allowed_hosts=tuple(args.allow_host),
            listeners=tuple(args.listener),
            listener_token=args.listener_token,
        )
    except ValueError as exc:  # a refused listener URL
        parser.error(str(exc))
    asyncio.run(serve(venue, args.host, args.port, args.control_port))


if __name__ == "__main__":
    main()
