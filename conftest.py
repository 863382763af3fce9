"""Wires the scenarios in scenarios/ to the harness's pytest fixtures: `pytest harness/gate/suite.py
--target reference --suite connectivity --alluredir DIR` runs them the way `uat gate` does."""

pytest_plugins = ("harness.gate.plugin",)
