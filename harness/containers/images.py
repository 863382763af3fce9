"""The images the container path runs: a Debian base (built locally where nothing can be
pulled) and the harness image on top of it, tagged by a digest of what went into it so a
changed source tree gets a new image and an unchanged one is reused."""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .engine import LABEL, docker_client
from .errors import ImageUnavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BASE_IMAGE = "stack-uat/debian-base:bookworm"
HARNESS_REPOSITORY = "stack-uat/harness"
BASE_SCRIPT = REPO_ROOT / "docker" / "base" / "build-base.sh"
DOCKERFILE = REPO_ROOT / "docker" / "harness" / "Dockerfile"
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

    def ensure_base(self) -> str:
        """The base image's tag; the default one is built with debootstrap when it is missing."""
        if self.present(self.base):
            return self.base
        if self.base != DEFAULT_BASE_IMAGE:
            raise ImageUnavailable(
                f"base image {self.base!r} is not present on the engine and no registry can be reached to "
                f"pull it; load it with `docker load`, or unset UAT_BASE_IMAGE to build {DEFAULT_BASE_IMAGE} "
                f"locally with {BASE_SCRIPT.relative_to(REPO_ROOT)}"
            )
        if shutil.which("debootstrap") is None:
            raise ImageUnavailable(
                f"{self.base} is missing and debootstrap is not installed to build it "
                "(apt-get install debootstrap)"
            )
        self.progress(f"building the base image {self.base} with debootstrap (about 25 s, once)")
        began = time.monotonic()
        env = dict(os.environ)
        if self.docker_host:
            env["DOCKER_HOST"] = self.docker_host
        done = subprocess.run(
            ["bash", str(BASE_SCRIPT), self.base], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise ImageUnavailable(f"building {self.base} failed: {done.stderr.strip()[-1500:]}")
        self.timings["base_build"] = time.monotonic() - began
        return self.base

    def harness_tag(self, context: Path) -> str:
        digest = hashlib.sha256(self.base.encode())
        for path in sorted(context.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(context)).encode() + b"\0" + path.read_bytes())
        return f"{HARNESS_REPOSITORY}:{digest.hexdigest()[:12]}"

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

    def _assemble(self, context: Path) -> None:
        shutil.copy(DOCKERFILE, context / "Dockerfile")
        (context / "requirements.txt").write_text(_requirements())
        ca = context / "ca"
        ca.mkdir()
        if HOST_CA_DIR.is_dir():
            for cert in sorted(HOST_CA_DIR.rglob("*.crt")):
                shutil.copy(cert, ca / cert.name)
        for path in _source_files():
            dest = context / "src" / path.relative_to(REPO_ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)

    def _build(self, context: Path, tag: str) -> None:
        client = self._client()
        tail: list[str] = []
        try:
            stream = client.api.build(
                path=str(context),
                tag=tag,
                buildargs={"BASE_IMAGE": self.base},
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
