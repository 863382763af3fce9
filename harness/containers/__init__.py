"""The container path: a Docker engine (found, or started loopback-only), the harness image,
and the mocks and fault plane running in containers on the host network."""

from .engine import (
    LABEL,
    OWNER_LABEL,
    LoopbackEngine,
    container_names,
    docker_client,
    engine_unavailable,
    list_containers,
    loopback_engine_unavailable,
    remove_containers,
    remove_orphans,
)
from .errors import EngineUnavailable, ImageUnavailable
from .images import DEFAULT_BASE_IMAGE, Images, configured_base_image
from .mockstack import ContainerMockStack
from .run import HarnessContainer, run_container

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "LABEL",
    "OWNER_LABEL",
    "ContainerMockStack",
    "EngineUnavailable",
    "HarnessContainer",
    "ImageUnavailable",
    "Images",
    "LoopbackEngine",
    "configured_base_image",
    "container_names",
    "docker_client",
    "engine_unavailable",
    "list_containers",
    "loopback_engine_unavailable",
    "remove_containers",
    "remove_orphans",
    "run_container",
]
