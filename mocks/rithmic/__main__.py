"""`python -m mocks.rithmic [--host --port --control-port --seed --tls ...]`

Runs the gateway and its control API in the foreground, prints one JSON line with the URL, control URL
and credentials once both listen, and runs until Ctrl-C or SIGTERM, then closes every connection and
removes the generated certificate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys

from harness.loopthread import new_event_loop

from .gateway import RithmicGateway
from .runner import start_all


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m mocks.rithmic", description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="R|Protocol WebSocket port (0: any free port)")
    ap.add_argument("--control-port", type=int, default=0, help="control API port (0: any free port)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--tls", action="store_true", help="serve wss:// with a generated self-signed certificate"
    )
    ap.add_argument("--ticks-per-second", type=float, default=10.0)
    ap.add_argument("--heartbeat-interval", type=float, default=30.0)
    ap.add_argument("--traders", type=int, default=0, help="extra users trader0001.. with one account each")
    ap.add_argument("--log-level", default="WARNING")
    return ap.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    gateway = RithmicGateway(
        args.seed,
        traders=args.traders,
        tls=args.tls,
        ticks_per_second=args.ticks_per_second,
        heartbeat_interval=args.heartbeat_interval,
    )
    control = await start_all(gateway, args.host, args.port, args.control_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        print(json.dumps({"url": gateway.url, "control": control.url, **gateway.describe()}), flush=True)
        await stop.wait()
    finally:
        await control.stop()
        await gateway.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    loop = new_event_loop()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            loop.run_until_complete(serve(args))
    finally:
        loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
