"""The gate's live progress on the terminal."""

from __future__ import annotations

import sys
import time
from typing import Any


class Display:
    """Live progress: a rich table on a terminal, one plain line per phase otherwise."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(file=sys.__stderr__)
        self.live: Any = None
        self.rows: dict[str, tuple[str, str]] = {}
        self.began = time.monotonic()

    def __enter__(self) -> Display:
        if self.console.is_terminal:
            from rich.live import Live

            self.live = Live(self._table(), console=self.console, refresh_per_second=4, transient=False)
            self.live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.live is not None:
            self.live.__exit__(None, None, None)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table(title="uat gate", title_justify="left", box=None, padding=(0, 2))
        for name in ("scenario", "phase", "faults active"):
            table.add_column(name)
        for sid, (phase, faults) in self.rows.items():
            table.add_row(sid, phase, faults or "-")
        return table

    def progress(self, sid: str, phase: str, faults: tuple[str, ...]) -> None:
        self.rows[sid] = (phase, ", ".join(faults))
        if self.live is not None:
            self.live.update(self._table())
        else:
            elapsed = time.monotonic() - self.began
            self.console.print(
                f"[{elapsed:6.1f}s] {sid}: {phase}" + (f" ({', '.join(faults)})" if faults else ""),
                highlight=False,
                soft_wrap=True,
            )
