"""Starting and stopping the guard: :class:`GuardServer` (tests, Python) and :func:`serve_forever`
(the ``safeforge serve`` command)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from safeforge.rerank import Critic
from safeforge.serve.app import build_app
from safeforge.serve.config import ServeConfig
from safeforge.serve.guard import Guard
from safeforge.targets import Target


class GuardServer:
    """The guard on ``cfg.host:cfg.port`` (port 0 picks a free one). The bind rule is checked
    before anything is built: a non-loopback host without a token raises ``SafeforgeError``."""

    def __init__(
        self, cfg: ServeConfig, *, critic: Critic | None = None, upstream: Target | None = None
    ) -> None:
        self.cfg = cfg
        self._token = cfg.check_bind()
        self._critic = critic
        self._upstream = upstream
        self.guard: Guard | None = None
        self.port = cfg.port
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1`` (what clients take as their base URL)."""
        host = f"[{self.cfg.host}]" if ":" in self.cfg.host else self.cfg.host
        return f"http://{host}:{self.port}/v1"

    async def start_async(self) -> str:
        self.guard = Guard(self.cfg, critic=self._critic, upstream=self._upstream)
        try:
            self._runner = web.AppRunner(
                build_app(self.guard, self._token), access_log=None, handle_signals=False
            )
            await self._runner.setup()
            site = web.TCPSite(self._runner, self.cfg.host, self.cfg.port, backlog=1024, reuse_address=True)
            await site.start()
        except BaseException:
            await self.stop_async()
            raise
        self.port = int(self._runner.addresses[0][1])
        self.guard.start()
        return self.base_url

    async def stop_async(self) -> None:
        """Stop listening, let answered decisions reach the store, close the upstream."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.guard is not None:
            await self.guard.aclose()
            self.guard = None

    async def __aenter__(self) -> str:
        return await self.start_async()

    async def __aexit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop_async()


def serve_forever(cfg: ServeConfig, announce: Callable[[GuardServer], None]) -> None:
    """Run the guard until SIGINT/SIGTERM; ``announce`` is called once it listens."""

    async def main() -> None:
        server = GuardServer(cfg)
        await server.start_async()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            announce(server)
            await stop.wait()
        finally:
            await server.stop_async()

    asyncio.run(main())
