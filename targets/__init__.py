"""The bundled target files (TOML) and the files they name (reconciliation SQL), shipped as package
data: `uat gate --target reference` reads them through importlib.resources, installed or not."""
