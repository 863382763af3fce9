"""The security suite: authentication, object-level authorisation, the admin allowlist, floods,
error bodies and secrets, probed against the live middleware through its declared adapter."""
