"""A stand-in middleware for the topology's own tests: serves /health, echoes its environment,
and prints its secrets to stdout so redaction of the captured log can be checked.

Usage: python env_echo.py PORT [--exit-now | --never-ready]
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(dict(os.environ)).encode() if self.path == "/env" else b"ok"
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    port = int(sys.argv[1])
    print(
        f"booting with TT secret {os.environ.get('TT_APP_SECRET')} and db {os.environ.get('DATABASE_URL')}",
        flush=True,
    )
    if "--exit-now" in sys.argv:
        print("fatal: cannot reach the order plant", flush=True)
        sys.exit(4)
    if "--never-ready" in sys.argv:
        import time

        time.sleep(600)
    HTTPServer(("127.0.0.1", port), Handler).serve_forever()


if __name__ == "__main__":
    main()
