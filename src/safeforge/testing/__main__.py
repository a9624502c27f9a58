"""``python -m safeforge.testing``: run the loopback OpenAI-compatible server in its own
process (benchmarks use this so the server does not share the client's GIL).

Prints the base URL on stdout (and writes it to ``--port-file`` when given) once listening;
stops on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path

from safeforge.testing.server import OpenAIServer, comply, echo, refuse

RESPONDERS = {"refuse": refuse, "comply": comply, "echo": echo}


async def _main_async(args: argparse.Namespace) -> None:
    server = OpenAIServer(
        RESPONDERS[args.responder],
        latency_s=args.latency,
        port=args.port,
        api_key=args.api_key,
        record=False,
    )
    base_url = await server.start_async()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    if args.port_file:
        tmp = Path(args.port_file + ".tmp")
        tmp.write_text(base_url)
        tmp.replace(args.port_file)
    print(base_url, flush=True)
    await stop.wait()
    await server.stop_async()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m safeforge.testing", description=__doc__)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every reply")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--port-file", default=None, help="write the base URL here once listening")
    parser.add_argument("--responder", choices=sorted(RESPONDERS), default="refuse")
    parser.add_argument("--api-key", default=None, help="require this bearer token (tests only)")
    args = parser.parse_args(argv)
    asyncio.run(_main_async(args))


if __name__ == "__main__":
    main()
