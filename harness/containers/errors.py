"""Why a container path could not run."""

from __future__ import annotations


class EngineUnavailable(RuntimeError):
    """No Docker engine can be reached or started here; the message says which and why."""


class ImageUnavailable(RuntimeError):
    """An image is missing and cannot be built here; the message says how to get it."""
