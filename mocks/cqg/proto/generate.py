"""Generate webapi_pb2.py and webapi_pb2.pyi from webapi.proto with grpcio-tools (a dev dependency)."""

from __future__ import annotations

import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROTO = "webapi.proto"
OUTPUTS = ("webapi_pb2.py", "webapi_pb2.pyi")


def generate(out_dir: Path) -> dict[str, bytes]:
    """Run protoc on webapi.proto into `out_dir`; the generated files' bytes by name.

    Raises ImportError without grpcio-tools and RuntimeError when protoc fails."""
    from grpc_tools import protoc  # type: ignore[import-untyped,unused-ignore]

    args = ["protoc", f"-I{HERE}", f"--python_out={out_dir}", f"--pyi_out={out_dir}", str(HERE / PROTO)]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {HERE / PROTO}")
    return {name: (out_dir / name).read_bytes() for name in OUTPUTS}


def descriptor_set(out_dir: Path) -> bytes:
    """The FileDescriptorSet protoc makes of webapi.proto: what the generated module must embed, whatever
    grpcio-tools version wrote its text."""
    from grpc_tools import protoc  # type: ignore[import-untyped,unused-ignore]

    target = out_dir / "webapi.desc"
    if protoc.main(["protoc", f"-I{HERE}", f"--descriptor_set_out={target}", str(HERE / PROTO)]) != 0:
        raise RuntimeError(f"protoc failed on {HERE / PROTO}")
    return target.read_bytes()


def regenerate() -> list[Path]:
    """Write freshly generated modules next to the .proto; the paths written."""
    with tempfile.TemporaryDirectory(prefix="cqg-proto-") as tmp:
        fresh = generate(Path(tmp))
    written = []
    for name, data in fresh.items():
        (HERE / name).write_bytes(data)
        written.append(HERE / name)
    return written
