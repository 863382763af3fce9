"""What the container path costs: mocks and fault plane up in containers against local processes,
measured in the same run, plus the first-run image builds when asked (`--cold`).

    python bench/container_startup.py [--runs 5] [--cold]

Needs an engine at DOCKER_HOST (`uat engine up`). `--cold` removes the harness and base images
first, so the figures include debootstrap and the image build.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from harness.containers import (
    ContainerMockStack,
    Images,
    configured_base_image,
    docker_client,
    engine_unavailable,
)
from harness.mockstack import MockStack


def _remove_images() -> None:
    client = docker_client()
    try:
        for image in client.images.list():
            if any(t.startswith("stack-uat/harness:") for t in image.tags):
                client.images.remove(image.id, force=True)
        if configured_base_image() in {t for i in client.images.list() for t in i.tags}:
            client.images.remove(configured_base_image(), force=True)
    finally:
        client.close()


def _time_start(make: type[MockStack] | type[ContainerMockStack]) -> float:
    began = time.monotonic()
    stack = make(seed=1, backend="embedded") if make is MockStack else make(seed=1)
    stack.start()
    took = time.monotonic() - began
    stack.stop()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="Remove the images first (first-run cost).")
    args = parser.parse_args()
    reason = engine_unavailable()
    if reason is not None:
        sys.exit(f"container_startup: {reason}")
    if args.cold:
        _remove_images()
    images = Images(progress=lambda m: print(f"  {m}", file=sys.stderr))
    began = time.monotonic()
    tag = images.ensure_harness()
    ready = time.monotonic() - began
    builds = ", ".join(f"{k} {v:.1f} s" for k, v in images.timings.items()) or "reused"
    print(f"images ready in {ready:.1f} s ({builds}): {tag}")
    local = [_time_start(MockStack) for _ in range(args.runs)]
    contained = [_time_start(ContainerMockStack) for _ in range(args.runs)]
    lm, cm = statistics.median(local), statistics.median(contained)
    print(f"mocks + fault plane up, median of {args.runs}:")
    print(f"  local processes   {lm:6.2f} s   (min {min(local):.2f}, max {max(local):.2f})")
    print(f"  containers (warm) {cm:6.2f} s   (min {min(contained):.2f}, max {max(contained):.2f})")
    print(f"  ratio containers/local: {cm / lm:.1f}x")


if __name__ == "__main__":
    main()
