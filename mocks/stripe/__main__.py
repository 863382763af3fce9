"""`python -m mocks.stripe`: the Stripe webhook emitter's control API, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from mocks.common.standalone import serve

from .emitter import StripeEmitter


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mocks.stripe", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--allow-host", action="append", default=[], help="a non-loopback host webhooks may be sent to"
    )
    args = parser.parse_args(argv)
    emitter = StripeEmitter(args.seed, allowed_hosts=tuple(args.allow_host))
    asyncio.run(serve(emitter, args.host, 0, args.control_port))


if __name__ == "__main__":
    main()
