"""LoopThread: coroutines run on its loop, their errors surface in the caller, cleanup runs,
and nothing is left pending when it stops."""

from __future__ import annotations

import asyncio
import threading

import pytest

from harness.loopthread import LoopThread


def test_runs_coroutines_and_functions_on_its_own_thread() -> None:
    loops = LoopThread("test-loop").start()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert loops.run(where()) == "test-loop"
        assert loops.call(lambda: threading.current_thread().name) == "test-loop"
    finally:
        loops.stop()


def test_errors_surface_in_the_caller() -> None:
    loops = LoopThread("test-loop").start()
    try:

        async def boom() -> None:
            raise ValueError("from the loop")

        with pytest.raises(ValueError, match="from the loop"):
            loops.run(boom())
    finally:
        loops.stop()


def test_stop_runs_cleanup_then_cancels_what_is_left() -> None:
    loops = LoopThread("test-loop").start()
    cleaned: list[str] = []
    cancelled = threading.Event()

    async def forever() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def cleanup() -> None:
        cleaned.append("done")

    assert loops.loop is not None
    asyncio.run_coroutine_threadsafe(forever(), loops.loop)
    thread_names = {t.name for t in threading.enumerate()}
    assert "test-loop" in thread_names
    loops.stop(cleanup)
    assert cleaned == ["done"] and cancelled.is_set()
    assert "test-loop" not in {t.name for t in threading.enumerate()}
    loops.stop()  # a second stop is harmless
