"""stack-uat: the harness library and the `uat` CLI."""
