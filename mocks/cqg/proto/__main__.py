"""`python -m mocks.cqg.proto`: regenerate webapi_pb2.py / .pyi from webapi.proto (needs grpcio-tools)."""

from __future__ import annotations

import sys

from .generate import regenerate


def main() -> int:
    for path in regenerate():
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
