"""Export Rithmic's R|Protocol schema as a protobuf FileDescriptorSet for the Node gateway.

Rithmic ships no .proto files we may copy, but async-rithmic's generated `*_pb2` modules carry
the serialized file descriptors. This script collects every one of them into a single
`google.protobuf.FileDescriptorSet` (binary), which the gateway loads with protobufjs
(`protobufjs/ext/descriptor`, `Root.fromDescriptor`).

    python scripts/export_rithmic_schema.py generated/rithmic-descriptor.pb

Run by `make` (the express-sample target) and by the gateway itself at start when the file is
missing (with the interpreter named in RITHMIC_SCHEMA_PYTHON).
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import tempfile
from pathlib import Path


def build_descriptor_set() -> bytes:
    import async_rithmic.protocol_buffers as package
    from google.protobuf import descriptor_pb2

    files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not module.name.endswith("_pb2"):
            continue
        descriptor = importlib.import_module(f"{package.__name__}.{module.name}").DESCRIPTOR
        pending = [descriptor]
        while pending:  # dependencies first is not required by protobufjs, but keep them all
            current = pending.pop()
            if current.name in files:
                continue
            proto = descriptor_pb2.FileDescriptorProto()
            current.CopyToProto(proto)
            files[current.name] = proto
            pending.extend(current.dependencies)
    if not files:
        raise SystemExit("no *_pb2 modules found in async_rithmic.protocol_buffers")
    result = descriptor_pb2.FileDescriptorSet()
    result.file.extend(files[name] for name in sorted(files))
    payload: bytes = result.SerializeToString()
    return payload


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("output", type=Path, help="where to write the FileDescriptorSet (binary)")
    args = parser.parse_args(argv)
    payload = build_descriptor_set()
    out: Path = args.output
    out.parent.mkdir(parents=True, exist_ok=True)
    # Written aside and renamed, so a gateway starting meanwhile never reads half a file.
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    print(f"wrote {out} ({len(payload)} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
