"""The bundled system under test: a DMA middleware with seeded bugs ("mutants").

Always run as a separate process (`python -m reference_middleware`), configured by environment
variables only, and reached through its API, its database and its configuration.
"""
