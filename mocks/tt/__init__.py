"""TT REST API 2.0 mock: ttid tokens, ttaccount, ttledger, ttmonitor and ttpds, with gateway faults."""

from .config import PLANS, TTConfig
from .gateway import valid_request_id
from .venue import TTMock

__all__ = ["PLANS", "TTConfig", "TTMock", "valid_request_id"]
