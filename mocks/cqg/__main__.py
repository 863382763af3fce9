"""`python -m mocks.cqg [--host --port --control-port --seed ...]`: the CQG WebAPI mock and its control API.

Runs until Ctrl-C or SIGTERM; prints one JSON line (url, control, user, password, accounts, contracts) once
both listen."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from mocks.common.standalone import serve

from .config import CQGConfig
from .gateway import CQGGateway


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m mocks.cqg", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="WebSocket port (0: any free port)")
    ap.add_argument("--control-port", type=int, default=0, help="control API port (0: any free port)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--ticks-per-second", type=float, default=10.0)
    ap.add_argument("--ping-interval", type=float, default=10.0, help="seconds between the server's pings")
    ap.add_argument("--pong-timeout", type=float, default=20.0, help="seconds a client has to answer one")
    ap.add_argument("--traders", type=int, default=0, help="extra users trader0001.. with one account each")
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    config = CQGConfig(ping_interval_s=args.ping_interval, pong_timeout_s=args.pong_timeout)
    gateway = CQGGateway(
        args.seed, traders=args.traders, ticks_per_second=args.ticks_per_second, config=config
    )
    asyncio.run(serve(gateway, args.host, args.port, args.control_port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
