"""`python -m mocks.tt`: the TT REST mock and its control API, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from mocks.common.standalone import serve

from .config import ENVIRONMENTS, PLANS, TTConfig
from .venue import TTMock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mocks.tt", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="venue port (0: any free port)")
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env", choices=ENVIRONMENTS, default="ext_uat_cert")
    parser.add_argument("--token-ttl", type=float, default=7200.0, help="seconds_until_expiry of tokens")
    parser.add_argument("--plan", choices=sorted(PLANS), default="free")
    parser.add_argument("--redirect", action="store_true", help="answer every GET with a 303 first")
    args = parser.parse_args(argv)
    config = TTConfig(env=args.env, token_ttl_s=args.token_ttl, plan=args.plan, redirect=args.redirect)
    venue = TTMock(args.seed, config)
    asyncio.run(serve(venue, args.host, args.port, args.control_port))


if __name__ == "__main__":
    main()
