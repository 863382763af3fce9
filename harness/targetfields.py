"""Typed reading of a target file's TOML tables, naming the dotted key of whatever is wrong.

A leaf module: target.py and the adapter specs both read tables through it."""

from __future__ import annotations

from typing import Any


class TargetError(ValueError):
    """A target file that cannot be used; `field` is the dotted path of the bad field."""

    def __init__(self, source: str, field_name: str, message: str) -> None:
        super().__init__(f"{source}: {field_name}: {message}")
        self.source = source
        self.field = field_name


class Fields:
    """Typed access to one TOML table that reports the dotted name of whatever is wrong."""

    def __init__(self, data: Any, prefix: str, source: str) -> None:
        if not isinstance(data, dict):
            raise TargetError(source, prefix or "target", "must be a table")
        self.data = data
        self.prefix = prefix
        self.source = source
        self._seen: set[str] = set()

    def name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def error(self, key: str, message: str) -> TargetError:
        return TargetError(self.source, self.name(key), message)

    def get(
        self, key: str, kind: type | tuple[type, ...], default: Any = None, *, required: bool = False
    ) -> Any:
        self._seen.add(key)
        if key not in self.data:
            if required:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            raise self.error(key, f"must be {_kind_name(kind)}, got a boolean")
        if not isinstance(value, kind):
            raise self.error(key, f"must be {_kind_name(kind)}, got {type(value).__name__} {value!r}")
        return value

    def positive(self, key: str, default: float) -> float:
        value = float(self.get(key, (int, float), default))
        if value <= 0:
            raise self.error(key, f"must be a positive number, got {value:g}")
        return value

    def table(self, key: str) -> Fields:
        return Fields(self.get(key, dict, {}), self.name(key), self.source)

    def strings(self, key: str) -> tuple[str, ...]:
        values = self.get(key, list, [])
        for index, item in enumerate(values):
            if not isinstance(item, str) or not item:
                raise self.error(f"{key}[{index}]", f"must be a non-empty string, got {item!r}")
        return tuple(values)

    def no_unknown(self) -> None:
        unknown = sorted(set(self.data) - self._seen)
        if unknown:
            raise self.error(unknown[0], f"unknown field (known: {', '.join(sorted(self._seen))})")


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {
        int: "a number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
        bool: "true or false",
    }
    return " or ".join(dict.fromkeys(names.get(k, k.__name__) for k in kinds))
