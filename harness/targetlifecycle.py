"""The target file's `[lifecycle]` table: the automation the agency runs on the bus (its Zaps), and
how long a funded trader may take to be provisioned once the contract is signed.

The Zaps are the agency's, not ours: the file names them (TOML, the Zapier mock's format), and
`[lifecycle.set]` gives their `{{env.NAME}}` values as templates of the running topology. The harness
loads them into the bus when the topology starts and after every reset.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .targetfields import Fields

LIFECYCLE_NEED = "lifecycle"  # what a lifecycle scenario needs of a target: a declared [lifecycle]
_SET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class LifecycleSpec:
    zaps: Path  # the Zaps file (resolved against the target file's directory)
    values: dict[str, str] = field(default_factory=dict)  # Zap env name -> template
    provisioned_s: float = 30.0  # signed contract -> MT5 login, deposit, worker and trading, within this
    deposit: str = "25000.00"  # the initial funding a funded checkout carries (metadata.deposit)

    def offers(self) -> tuple[str, ...]:
        return (LIFECYCLE_NEED,)


def parse_lifecycle(table: Fields, base: Path) -> LifecycleSpec | None:
    if not table.data:
        return None
    name = table.get("zaps", str, required=True)
    path = (base / name).resolve()
    if not path.is_file():
        raise table.error("zaps", f"no such file: {path}")
    values = table.table("set")
    rendered = {key: values.get(key, str, required=True) for key in list(values.data)}
    for key in rendered:
        if not _SET_NAME.fullmatch(key):
            raise values.error(key, "a Zap env name is letters, digits and _, not led by a digit")
    provisioned = table.positive("provisioned_s", LifecycleSpec.provisioned_s)
    deposit = table.get("deposit", str, LifecycleSpec.deposit)
    if not re.fullmatch(r"\d{1,12}(\.\d{1,2})?", deposit):
        raise table.error("deposit", f"must be an amount such as 25000.00, got {deposit!r}")
    table.no_unknown()
    return LifecycleSpec(path, rendered, provisioned, deposit)
