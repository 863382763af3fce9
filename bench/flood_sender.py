"""The CPU the flood's sender spends per request, against an httpx client doing the same, in one run.

    .venv/bin/python bench/flood_sender.py [--requests 3000] [--rounds 2]

A flood shares the box with the middleware and the traders whose acks flood_isolated judges, so the
CPU its sender burns is taken from them. Both senders run as processes of their own, four threads
each over kept-alive connections, as fast as they can, against one aiohttp server (in a third process)
that answers every request 429 with a Retry-After. Prints each sender's CPU per request, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import subprocess
import sys

from harness.ports import free_port, is_listening, wait_until
from harness.security.floodsender import Plan

HTTPX_SENDER = r"""
import json, sys, threading, time
import httpx
plan, lock = json.loads(sys.stdin.read()), threading.Lock()
def worker(offset):
    with httpx.Client(timeout=plan["timeout_s"], trust_env=False) as client:
        for _ in range(offset, plan["total"], plan["threads"]):
            answer = client.request(
                plan["method"], plan["url"], params=plan["params"], headers=plan["headers"]
            )
            with lock:
                sys.stdout.write(json.dumps({"t": time.monotonic(), "status": answer.status_code}) + "\n")
threads = [threading.Thread(target=worker, args=(i,)) for i in range(plan["threads"])]
for t in threads: t.start()
for t in threads: t.join()
"""


def _serve(port: int) -> None:
    from aiohttp import web

    async def limited(_: web.Request) -> web.Response:
        return web.Response(status=429, headers={"Retry-After": "1"}, text="slow down")

    app = web.Application()
    app.router.add_get("/positions", limited)
    web.run_app(app, host="127.0.0.1", port=port, print=None)


def _measure(command: list[str], plan: Plan) -> tuple[float, int]:
    """CPU seconds (user + system) of the sender process, and the answers it reported."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(command, input=json.dumps(plan), capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, sum(1 for line in out.splitlines() if '"status": 429' in line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    port = free_port()
    server = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
    server.start()
    try:
        assert wait_until(lambda: is_listening("127.0.0.1", port), 15), "the 429 server did not start"
        plan: Plan = {
            "method": "GET",
            "url": f"http://127.0.0.1:{port}/positions",
            "params": {"account": "A4"},
            "headers": {"Authorization": "Bearer k"},
            "threads": 4,
            "total": args.requests,
            "rate_rps": 1e9,  # as fast as it can: the CPU per request is the figure, not the pace
            "duration_s": 120.0,
            "timeout_s": 5.0,
        }
        senders = {
            "httpx client": [sys.executable, "-c", HTTPX_SENDER],
            "floodsender": [sys.executable, "-m", "harness.security.floodsender"],
        }
        per_request: dict[str, list[float]] = {name: [] for name in senders}
        for _ in range(args.rounds):
            for name, command in senders.items():
                cpu, answers = _measure(command, plan)
                assert answers == args.requests, f"{name}: {answers} of {args.requests} answered 429"
                per_request[name].append(cpu * 1000 / answers)
        for name, figures in per_request.items():
            each = ", ".join(f"{f:.3f}" for f in figures)
            print(f"{name:13} CPU per request: {each} ms (best {min(figures):.3f})")
        ratio = min(per_request["httpx client"]) / min(per_request["floodsender"])
        print(f"floodsender spends 1/{ratio:.1f} of the httpx client's CPU per request")
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
