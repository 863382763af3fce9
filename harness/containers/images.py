"""The images the container path runs: a Debian base (built locally where nothing can be
pulled) and the harness image on top of it, tagged by a digest of what went into it so a
changed source tree gets a new image and an unchanged one is reused."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .engine import LABEL, docker_client
from .errors import ImageUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE_IMAGE = "stack-uat/debian-base:bookworm"
# Node 20 from apt needs trixie (bookworm's nodejs is 18); built the same way, on first use.
NODE_BASE_IMAGE = "stack-uat/debian-base:trixie"
LOCAL_BASES = {DEFAULT_BASE_IMAGE: "bookworm", NODE_BASE_IMAGE: "trixie"}  # tag -> Debian suite
HARNESS_REPOSITORY = "stack-uat/harness"
BASE_SCRIPT = REPO_ROOT / "docker" / "base" / "build-base.sh"
DOCKERFILE = REPO_ROOT / "docker" / "harness" / "Dockerfile"
# The Express sample target as an image (targets/express-sample-image.toml runs it): tagged by a
# digest of its context like the harness image, and also under this fixed name for target files.
EXPRESS_SAMPLE_REPOSITORY = "stack-uat/express-sample"
EXPRESS_SAMPLE_IMAGE = f"{EXPRESS_SAMPLE_REPOSITORY}:local"
EXPRESS_SAMPLE_DOCKERFILE = REPO_ROOT / "docker" / "express-sample" / "Dockerfile"
HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
# What `uat mocks up` and `uat toxiproxy` import; pinned to the host's versions so the mocks in
# a container behave exactly like the local ones.
IMAGE_REQUIREMENTS = (
    "aiohttp",
    "async-rithmic",
    "click",
    "cryptography",
    "httpx",
    "protobuf",
    "pyyaml",
    "rich",
    "websockets",
)
SOURCE_PACKAGES = ("harness", "mocks")

Progress = Callable[[str], None]


def configured_base_image() -> str:
    return os.environ.get("UAT_BASE_IMAGE") or DEFAULT_BASE_IMAGE


def configured_node_base_image() -> str:
    return os.environ.get("UAT_NODE_BASE_IMAGE") or NODE_BASE_IMAGE


def _quiet(_: str) -> None:
    pass


def _source_files() -> Iterator[Path]:
    for package in SOURCE_PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                yield path


def _requirements() -> str:
    lines = []
    for name in IMAGE_REQUIREMENTS:
        try:
            lines.append(f"{name}=={importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


class Images:
    """Builds or reuses the base and harness images on one engine."""

    def __init__(
        self, docker_host: str | None = None, *, base: str | None = None, progress: Progress | None = None
    ) -> None:
        self.docker_host = docker_host or os.environ.get("DOCKER_HOST")
        self.base = base or configured_base_image()
        self.progress = progress or _quiet
        self.timings: dict[str, float] = {}

    def _client(self) -> Any:
        return docker_client(self.docker_host, timeout=600)

    def present(self, tag: str) -> bool:
        import docker.errors

        client = self._client()
        try:
            client.images.get(tag)
            return True
        except docker.errors.ImageNotFound:
            return False
        finally:
            client.close()

    def ensure_base(self, base: str | None = None) -> str:
        """The base image's tag (default: the harness's); the local Debian bases are built with
        debootstrap when they are missing."""
        base = base or self.base
        if self.present(base):
            return base
        if base not in LOCAL_BASES:
            variable = "UAT_NODE_BASE_IMAGE" if base == configured_node_base_image() else "UAT_BASE_IMAGE"
            default = NODE_BASE_IMAGE if variable == "UAT_NODE_BASE_IMAGE" else DEFAULT_BASE_IMAGE
            raise ImageUnavailable(
                f"base image {base!r} is not present on the engine and no registry can be reached to "
                f"pull it; load it with `docker load`, or unset {variable} to build {default} "
                f"locally with {BASE_SCRIPT.relative_to(REPO_ROOT)}"
            )
        if shutil.which("debootstrap") is None:
            raise ImageUnavailable(
                f"{base} is missing and debootstrap is not installed to build it "
                "(apt-get install debootstrap)"
            )
        self.progress(f"building the base image {base} with debootstrap (about 25-45 s, once)")
        began = time.monotonic()
        env = dict(os.environ)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        done = subprocess.run(
            ["bash", str(BASE_SCRIPT), base, LOCAL_BASES[base]],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise ImageUnavailable(f"building {base} failed: {done.stderr.strip()[-1500:]}")
        self.timings["base_build" if base == self.base else f"base_build.{LOCAL_BASES[base]}"] = (
            time.monotonic() - began
        )
        return base

    def harness_tag(self, context: Path) -> str:
        return _context_tag(HARNESS_REPOSITORY, self.base, context)

    def ensure_harness(self) -> str:
        """The harness image's tag, built on the base when this source tree has no image yet."""
        with tempfile.TemporaryDirectory(prefix="uat-image-") as tmp:
            context = Path(tmp)
            self._assemble(context)
            tag = self.harness_tag(context)
            if self.present(tag):
                return tag
            self.ensure_base()
            self.progress(f"building {tag} on {self.base} (pip installs the mocks' dependencies)")
            began = time.monotonic()
            self._build(context, tag)
            self.timings["harness_build"] = time.monotonic() - began
            return tag

    def ensure_express_sample(self) -> str:
        """EXPRESS_SAMPLE_IMAGE, pointing at an image of this tree's Express sample target (Node
        from apt on the trixie base, `npm ci` of its package-lock.json), built when missing."""
        base = configured_node_base_image()
        with tempfile.TemporaryDirectory(prefix="uat-image-") as tmp:
            context = Path(tmp)
            _assemble_express_sample(context)
            tag = _context_tag(EXPRESS_SAMPLE_REPOSITORY, base, context)
            if not self.present(tag):
                self.ensure_base(base)
                self.progress(f"building {tag} on {base} (apt installs Node, npm ci its dependencies)")
                began = time.monotonic()
                self._build(context, tag, base)
                self.timings["express_sample_build"] = time.monotonic() - began
        client = self._client()
        try:
            client.images.get(tag).tag(EXPRESS_SAMPLE_REPOSITORY, EXPRESS_SAMPLE_IMAGE.rsplit(":", 1)[1])
        finally:
            client.close()
        return EXPRESS_SAMPLE_IMAGE

    def _assemble(self, context: Path) -> None:
        shutil.copy(DOCKERFILE, context / "Dockerfile")
        (context / "requirements.txt").write_text(_requirements())
        _copy_host_cas(context)
        for path in _source_files():
            dest = context / "src" / path.relative_to(REPO_ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)

    def _build(self, context: Path, tag: str, base: str | None = None) -> None:
        client = self._client()
        tail: list[str] = []
        try:
            stream = client.api.build(
                path=str(context),
                tag=tag,
                buildargs={"BASE_IMAGE": base or self.base},
                network_mode="host",  # no bridge exists: apt and pip reach the registries as the host does
                labels={LABEL: "1"},
                rm=True,
                forcerm=True,
                decode=True,
            )
            for chunk in stream:
                if "error" in chunk:
                    raise ImageUnavailable(
                        f"building {tag} failed: {chunk['error'].strip()}\n" + "".join(tail[-20:])
                    )
                line = str(chunk.get("stream", ""))
                if line.strip():
                    tail.append(line)
                    if line.startswith("Step "):
                        self.progress(line.strip())
        finally:
            client.close()


def _context_tag(repository: str, base: str, context: Path) -> str:
    """repository:<digest of the base's name and every file of the build context>."""
    digest = hashlib.sha256(base.encode())
    for path in sorted(context.rglob("*")):
        if path.is_file():
            digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
    return f"{repository}:{digest.hexdigest()[:12]}"


def _copy_host_cas(context: Path) -> None:
    """Hosts behind a TLS-intercepting proxy trust extra CAs; the build trusts the same ones."""
    ca = context / "ca"
    ca.mkdir()
    if HOST_CA_DIR.is_dir():
        for cert in sorted(HOST_CA_DIR.rglob("*.crt")):
            shutil.copy(cert, ca / cert.name)


def express_sample_source() -> Path:
    """The Express sample's directory: beside the bundled target files in a checkout (the Node
    source is not package data: a wheel without it cannot build the image)."""
    from ..resources import TARGETS, real_dir

    source = real_dir(TARGETS) / "express-sample"
    if not (source / "package-lock.json").is_file():
        raise ImageUnavailable(
            f"the Express sample's source is not at {source} (it ships in the repository, not in the "
            "wheel); build its image from a checkout"
        )
    return source


def _assemble_express_sample(context: Path) -> None:
    source = express_sample_source()
    shutil.copy(EXPRESS_SAMPLE_DOCKERFILE, context / "Dockerfile")
    _copy_host_cas(context)
    app = context / "app"
    app.mkdir()
    for name in ("package.json", "package-lock.json"):
        shutil.copy(source / name, app / name)
    shutil.copytree(source / "src", app / "src", ignore=shutil.ignore_patterns("node_modules"))
    # The R|Protocol schema, exported from this harness's async-rithmic (the image has no Python):
    # the same file `make` writes into the checkout, byte for byte.
    generated = app / "generated"
    generated.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            str(source / "scripts" / "export_rithmic_schema.py"),
            str(generated / "rithmic-descriptor.pb"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ImageUnavailable(
            f"exporting the Rithmic schema for the image failed: {done.stderr.strip()[-1500:]}"
        )
    # the build keeps the context's modes, and the app runs as an unprivileged user
    for path in app.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
