"""`python -m mocks.mt5`: the MT5 Manager Web API mock and its control API, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from mocks.common.standalone import serve

from .config import MT5Config
from .venue import MT5Mock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mocks.mt5", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="venue port (0: any free port)")
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tls", action="store_true", help="serve https:// with a generated self-signed certificate"
    )
    args = parser.parse_args(argv)
    venue = MT5Mock(args.seed, MT5Config(tls=args.tls))
    asyncio.run(serve(venue, args.host, args.port, args.control_port))


if __name__ == "__main__":
    main()
