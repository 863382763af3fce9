"""`python -m mocks.zapier --config FILE`: catch hooks, Zap runs and the control API, until SIGTERM."""

from __future__ import annotations

import argparse
import asyncio

from mocks.common.standalone import serve

from .config import ConfigError, load
from .venue import ZapierMock


def _pair(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--set wants name=value, got {text!r}")
    return name, value


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mocks.zapier", description=__doc__)
    parser.add_argument("--config", required=True, help="the Zaps, a TOML file (see zaps.example.toml)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="catch-hook port (0: any free port)")
    parser.add_argument("--control-port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set", type=_pair, action="append", default=[], metavar="NAME=VALUE", help="an {{env.NAME}} value"
    )
    parser.add_argument(
        "--allow-host", action="append", default=[], help="a non-loopback host Zap steps may call"
    )
    args = parser.parse_args(argv)
    env = dict(args.set)
    try:
        config = load(args.config, env, args.allow_host)
    except ConfigError as exc:
        parser.error(f"{args.config}: {exc}")
    venue = ZapierMock(config, args.seed, env=env, allowed_hosts=tuple(args.allow_host))
    asyncio.run(serve(venue, args.host, args.port, args.control_port))


if __name__ == "__main__":
    main()
