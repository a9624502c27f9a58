"""``python:module:function`` — any Python callable as a target.

The callable receives one :class:`~safeforge.records.Probe` (use ``probe.messages`` for the
chat turns, ``probe.prompt`` for the last user message) and returns the response text or a
full :class:`~safeforge.records.Completion`. It may be ``async def`` (runs concurrently, up
to ``--concurrency``) or a plain function (called on the event loop, one at a time — make it
async if it waits on I/O). An exception becomes that probe's error, not the run's.
The current directory is importable, so ``python:my_bot:answer`` finds ``./my_bot.py``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import os
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, cast

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Probe
from safeforge.targets._base import TargetOptions

TargetFn = Callable[[Probe], "str | Completion | Awaitable[str | Completion]"]


class CallableTarget:
    """Wraps ``fn(probe) -> str | Completion`` (sync or async)."""

    batch_size = 1

    def __init__(self, fn: TargetFn, *, name: str, concurrency: int = 16) -> None:
        self.id = f"python:{name}"
        self._fn = fn
        self._semaphore = asyncio.Semaphore(concurrency)

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        if len(probes) == 1:
            return [await self._one_async(probes[0])]
        return list(await asyncio.gather(*(self._one_async(p) for p in probes)))

    async def _one_async(self, probe: Probe) -> Completion:
        async with self._semaphore:
            start = time.perf_counter()
            try:
                result = self._fn(probe)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as exc:  # a user callable failing on one probe is that probe's error
                return Completion(error=f"{type(exc).__name__}: {str(exc)[:300]}")
            latency = time.perf_counter() - start
            if isinstance(result, Completion):
                return result if result.latency_s else result.model_copy(update={"latency_s": latency})
            if not isinstance(result, str):
                return Completion(error=f"callable returned {type(result).__name__}, expected str")
            return Completion(text=result, finish_reason="stop", latency_s=latency)

    async def aclose(self) -> None:
        return None


def load_callable(spec: str) -> TargetFn:
    """Import ``module:function`` (dotted attribute paths allowed) with clear errors."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise SafeforgeError(f"python target needs python:MODULE:FUNCTION (got python:{spec})")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise SafeforgeError(f"python target: cannot import {module_name!r} ({exc})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise SafeforgeError(f"python target: {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    if not callable(obj):
        raise SafeforgeError(f"python target: {spec} is not callable")
    return cast(TargetFn, obj)


def python(rest: str, options: TargetOptions) -> CallableTarget:
    """Factory for ``python:module:function``."""
    return CallableTarget(load_callable(rest), name=rest, concurrency=options.concurrency)
