"""The baseline the scan benchmarks compare with: a bare aiohttp script that reads a prompt CSV
and POSTs every prompt to an OpenAI-compatible server, one session and a semaphore, the JSON
answer parsed. Only aiohttp and the standard library, so its process start-to-exit time is
what a hand-written client would take.

    python benchmarks/bare_client.py BASE_URL PROMPTS.csv CONCURRENCY
"""

from __future__ import annotations

import asyncio
import csv
import sys
import time

import aiohttp


async def bare_loop_async(base_url: str, prompts: list[str], concurrency: int) -> float:
    """POST every prompt (at most ``concurrency`` in flight); returns prompts per second."""
    semaphore = asyncio.Semaphore(concurrency)
    url = f"{base_url}/chat/completions"

    async def one(session: aiohttp.ClientSession, prompt: str) -> str:
        body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "max_tokens": 256}
        async with semaphore, session.post(url, json=body) as resp:
            data = await resp.json()
            return str(data["choices"][0]["message"]["content"])

    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        answers = await asyncio.gather(*(one(session, p) for p in prompts))
    elapsed = time.perf_counter() - start
    assert len(answers) == len(prompts)
    return len(prompts) / elapsed


def main() -> None:
    base_url, path, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    with open(path, encoding="utf-8", newline="") as fh:
        prompts = [row["prompt"] for row in csv.DictReader(fh)]
    asyncio.run(bare_loop_async(base_url, prompts, concurrency))


if __name__ == "__main__":
    main()
