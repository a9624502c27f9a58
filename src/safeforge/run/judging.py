"""Judging a run: while it generates (:class:`OnlineJudging`) and over the store afterwards
(:func:`judge_run_async`).

During a scan the judges do not wait for the last answer: each group of attempts the writer
commits is queued, judged in small chunks on a thread of its own while the target answers, its
verdicts stored in one transaction (by the writer, on the scan's loop: one connection writes a
run), and the judged attempts handed to the report's streaming builder. When the last answer
arrives, judging and the summary are all but done. The queue is bounded: if the judges fall
behind (a slow LLM judge), attempts beyond the bound are left to the pass over the store that
follows every scan, and the report is then built from the store too.

``judge_run_async`` is that pass: every judge over the stored answered attempts that lack its
verdict, a page at a time, so a killed judging step resumes where it stopped and a run of any
size is judged in bounded memory. Errored attempts are never judged (metrics count them apart).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter, deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

from safeforge.records import Attempt, Verdict
from safeforge.run.store import Store
from safeforge.run.writer import AttemptWriter, Rows

if TYPE_CHECKING:
    from safeforge.judges._base import Judge
    from safeforge.metrics._observe import RunFacts
    from safeforge.report.outputs import ReportBuilder
    from safeforge.run.result import Run

JUDGE_CHUNK = 256
"""Attempts per judge call over the store."""
ONLINE_CHUNK = 64
"""Attempts per judge call while generating: small, so responses are not kept waiting, but
whole (the judges wait for a full chunk until the scan ends): a commit group is often ~8
attempts, and judging each group alone made 469 judge calls and verdict transactions of a
4,000-prompt scan instead of 63."""
ONLINE_QUEUE = 8192
"""Most committed attempts waiting for the judges while generating (bounded memory)."""


def create_judges(specs: Sequence[str | Judge]) -> list[Judge]:
    """Build the judges (importing their stacks); report modules are imported alongside, as
    both are needed at the end of a scan and this runs in a thread while it generates."""
    from safeforge.judges import create_judge  # judges pull in heavy optional stacks: load on use
    from safeforge.report import outputs  # metrics and the report: needed when the scan ends

    _ = outputs
    return [create_judge(spec) if isinstance(spec, str) else spec for spec in specs]


async def judge_async(judges: Sequence[Judge], attempts: Sequence[Attempt]) -> dict[str, list[Verdict]]:
    """Every judge's verdict on each answered attempt, by probe id (judges in order)."""
    answered = [a for a in attempts if a.ok]
    out: dict[str, list[Verdict]] = {a.probe.id: [] for a in answered}
    for judge in judges:
        if not answered:
            break
        verdicts = await judge.judge_async(answered)
        if len(verdicts) != len(answered):
            raise RuntimeError(f"{judge.name} returned {len(verdicts)} verdicts for {len(answered)}")
        for a, v in zip(answered, verdicts, strict=True):
            out[a.probe.id].append(v)
    return out


def judge_run(run: Run, judges: Sequence[str | Judge]) -> None:
    """Store each judge's verdicts for the answered attempts that lack one from it."""
    from safeforge.run.runner import run_sync

    run_sync(judge_run_async(run, judges))


async def judge_run_async(run: Run, judges: Sequence[str | Judge]) -> int:
    """Async :func:`judge_run`; returns how many verdicts it added. One store connection for
    the whole pass (opening and closing a WAL database checkpoints it each time)."""
    if not judges:
        return 0
    added = 0
    with Store(run.store_path) as store:
        for judge in create_judges(judges):
            chunk: list[Attempt] = []
            for attempt in store.iter_attempts(ok_only=True, lacking=judge.name):
                chunk.append(attempt)
                if len(chunk) == JUDGE_CHUNK:
                    added += await _judge_stored_async(store, judge, chunk)
                    chunk = []
            if chunk:
                added += await _judge_stored_async(store, judge, chunk)
    return added


async def _judge_stored_async(store: Store, judge: Judge, chunk: list[Attempt]) -> int:
    verdicts = await judge_async([judge], chunk)
    store.add_verdicts(verdicts)
    return len(verdicts)


def assumed_facts(judges: Sequence[Judge]) -> RunFacts:
    """The run facts these judges will produce if each gives a verdict of its own task to every
    answered attempt; checked against what they really produced before the report uses them."""
    from safeforge.metrics._observe import RunFacts  # metrics (numpy) load while generating

    return RunFacts.from_counts(Counter((j.task, j.name) for j in judges))


class OnlineJudging:
    """Judges committed attempts on a thread of its own while the scan generates, and feeds
    them to a report builder (see the module doc). ``offer`` is the writer's commit listener
    (event-loop thread); ``start`` returns a future that completes when the thread ends.

    Why a thread: judging a chunk, storing its verdicts and adding it to the summary is CPU
    work, and on the event loop each chunk held up every response that arrived meanwhile (a
    4,000-prompt scan's request window ran 10 % longer with the judges than without). On the
    thread the loop waits at most one GIL switch interval, and the encoder releases the GIL.
    The thread runs its own event loop, so async judges (an LLM judge's requests) work there."""

    def __init__(self, specs: Sequence[str | Judge], writer: AttemptWriter, *, report: bool = True) -> None:
        self._specs = specs
        self._writer = writer
        self._reporting = report
        self._queue: deque[Attempt] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._aborted = False
        self.complete = True
        """False once an attempt was left to the pass over the store (queue full)."""
        self.report: ReportBuilder | None = None
        self.facts: RunFacts | None = None

    def offer(self, rows: Rows) -> None:
        with self._ready:
            if self._closed or len(self._queue) + len(rows) > ONLINE_QUEUE:
                self.complete = False
                return
            self._queue.extend(a for _, a in rows)
            if len(self._queue) >= ONLINE_CHUNK:
                self._ready.notify()

    def close(self) -> None:
        """No more attempts are coming: the thread ends once the queue is judged."""
        with self._ready:
            self._closed = True
            self._ready.notify()

    def abort(self) -> None:
        """Stop after the chunk being judged (the scan failed; the store pass judges the rest)."""
        with self._ready:
            self._closed = self._aborted = True
            self.complete = False
            self._ready.notify()

    def start(self) -> asyncio.Future[None]:
        """Start the judging thread; the returned future (of the calling loop) is resolved with
        the thread's outcome: ``None``, or the exception a judge raised."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def settle(exc: BaseException | None) -> None:
            if not done.done():
                done.set_result(None) if exc is None else done.set_exception(exc)

        def main() -> None:
            outcome: BaseException | None = None
            try:
                asyncio.run(self._run_async())
            except BaseException as exc:  # handed to the scan, which stops and re-raises it
                outcome = exc
            with contextlib.suppress(RuntimeError):  # the scan's loop already closed
                loop.call_soon_threadsafe(settle, outcome)

        threading.Thread(target=main, name="safeforge-judging", daemon=True).start()
        return done

    async def _run_async(self) -> None:
        from safeforge.report.outputs import ReportBuilder

        judges = create_judges(self._specs)
        self.facts = assumed_facts(judges)
        preparing: threading.Thread | None = None
        if self._reporting:
            self.report = ReportBuilder(self.facts)
            # the summary's encoder and the page template load beside the first chunks
            preparing = threading.Thread(target=self.report.prepare, name="safeforge-report", daemon=True)
            preparing.start()
        while chunk := self._next_chunk():
            await self._judge_async(judges, chunk)
        if preparing is not None:
            preparing.join()

    def _next_chunk(self) -> list[Attempt]:
        """The next whole chunk (or what is left once closed); empty when done or aborted."""
        with self._ready:
            while len(self._queue) < ONLINE_CHUNK and not self._closed:
                self._ready.wait()
            if self._aborted:
                return []
            return [self._queue.popleft() for _ in range(min(ONLINE_CHUNK, len(self._queue)))]

    async def _judge_async(self, judges: Sequence[Judge], chunk: list[Attempt]) -> None:
        """Judge ``chunk``, have the writer store its verdicts in one transaction, feed the report."""
        verdicts = await judge_async(judges, chunk)
        self._writer.add_verdicts_threadsafe(verdicts)
        if self.report is not None:
            for a in chunk:
                self.report.add(a.model_copy(update={"verdicts": tuple(verdicts.get(a.probe.id, ()))}))

    def finished_report(self, stored: int) -> ReportBuilder | None:
        """The online report builder if it saw every one of the ``stored`` attempts with every
        verdict, under the run facts it assumed; else ``None`` (report from the store)."""
        report, facts = self.report, self.facts
        if report is None or facts is None or not self.complete or report.summary.n_attempts != stored:
            return None
        produced = type(facts).from_counts(report.summary.verdict_counts)
        return report if produced == facts else None


__all__ = ["OnlineJudging", "judge_run", "judge_run_async"]
