"""Reporting: Allure helpers, gate summary, plots and secret redaction."""

from .redact import MASK, Redactor

__all__ = ["MASK", "Redactor"]
