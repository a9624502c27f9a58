"""The guard: N candidates from the upstream, the critic's pick, the decision recorded.

The critic runs on a thread of its own with its own event loop: an encoder or reward-model
critic computes for milliseconds per batch, and on the serving loop that would stall every
other request (and ``/health``). With ``n = 1`` there is nothing to choose and the critic is
never called -- the guard is then a recording pass-through, which is what the overhead
benchmark measures.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Probe
from safeforge.rerank import Critic, Ranking, draw_async, rerank_many_async
from safeforge.rerank.target import chosen
from safeforge.serve.config import ServeConfig
from safeforge.serve.recorder import Recorder
from safeforge.targets import Generation, Target, create_target

T = TypeVar("T")


class UpstreamError(Exception):
    """No usable candidate came back (the message is already free of secrets)."""

    def __init__(self, message: str, *, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class CriticThread:
    """An event loop on a daemon thread that runs critic coroutines off the serving loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="safeforge-critic", daemon=True)
        self._thread.start()

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self.loop))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self.loop.close()


class Guard:
    """Best-of-N in front of one upstream target; see the module docstring."""

    def __init__(
        self, cfg: ServeConfig, *, critic: Critic | None = None, upstream: Target | None = None
    ) -> None:
        self.cfg = cfg
        self.upstream = upstream if upstream is not None else create_target(cfg.target, cfg.target_options())
        self.critic = None if cfg.n == 1 else critic or Critic.from_specs(cfg.critic)
        self._critic_thread = CriticThread() if self.critic is not None else None
        meta = {
            "config": Recorder.scan_meta(self.upstream.id, cfg.base_url, cfg.run_dir),
            "serve": cfg.redacted(),
            "critic": self.critic.name if self.critic is not None else None,
        }
        self.recorder = Recorder(cfg.run_dir, meta)

    @property
    def critic_name(self) -> str:
        return self.critic.name if self.critic is not None else "none (n = 1)"

    def start(self) -> None:
        self.recorder.start()

    async def decide_async(self, probe: Probe, generation: Generation) -> tuple[Completion, Ranking]:
        """Draw, rank and record; the chosen completion and the ranking. ``UpstreamError`` when
        no candidate came back. The chosen completion's usage counts every candidate's tokens."""
        started = time.perf_counter()
        try:
            drawn = (await draw_async(self.upstream, [probe], self.cfg.n, generation))[0]
        except SafeforgeError as exc:  # the target's "whole run is doomed" errors: one request here
            raise UpstreamError(str(exc)) from None
        if not any(c.error is None and c.text is not None for c in drawn):
            errors = [c.error or "" for c in drawn]
            timed_out = all(e.startswith("timed out") for e in errors)
            raise UpstreamError(errors[0] or "upstream returned no answer", timed_out=timed_out)
        if self.critic is None or self._critic_thread is None:
            ranking = Ranking(
                choice=0, scores=(None,) * len(drawn), verdicts=((),) * len(drawn), critic="none"
            )
        else:
            coro = rerank_many_async([probe], [drawn], self.critic, target=self.upstream.id)
            ranking = (await self._critic_thread.run_async(coro))[0]
        self.recorder.add((probe, drawn, ranking, self.upstream.id))
        return chosen(drawn, ranking, time.perf_counter() - started), ranking

    async def aclose(self) -> None:
        try:
            await self.recorder.close_async()
        finally:
            await self.upstream.aclose()
            if self._critic_thread is not None:
                self._critic_thread.close()
