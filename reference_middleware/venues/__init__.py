"""Venue clients: Rithmic (async-rithmic, order routing and market data) and TT (REST, admin)."""
