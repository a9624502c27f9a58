"""The attack engine: one *campaign* per (method, goal), each a loop of plan -> attacker ->
(prune) -> target -> judges, every step committed before the next.

Durability follows the scan's rule — a ``kill -9`` costs at most what was in flight, and what
was committed is never asked again — at two points per node: the attacker's reply is stored as
soon as it arrives (``proposed`` or ``unusable``), and the target's answer is stored together
with its verdicts and the node's new status (``answered`` or ``pruned``) in one transaction
(``Store.put_nodes``). A resumed campaign first answers its ``proposed`` nodes (the attacker is
not asked again), then asks the method for the next step over the stored turns. An endpoint
error (attacker or target, after the target's own retries) stores nothing and leaves the goal
unfinished — never a turn, never a failure counted in the ASR — so a resume retries it.

Campaigns run concurrently (``concurrency`` of them); inside one, a step's proposals (PAIR's
streams, TAP's branches) go out together. Each target bounds its own requests in flight.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeforge.attacks._base import (
    ATTACKS,
    AttackMethod,
    Goal,
    Proposal,
    Turn,
    budget_stop,
    by_id,
    rate_turn,
    single_turn,
)
from safeforge.attacks.config import AttackConfig, select_goals
from safeforge.attacks.parse import parse_proposal
from safeforge.errors import SafeforgeError
from safeforge.judges._base import Judge
from safeforge.records import (
    Attempt,
    Completion,
    ConversationNode,
    Expected,
    Label,
    Message,
    Method,
    NodeStatus,
    Probe,
    Task,
    Verdict,
)
from safeforge.run.judging import create_judges, judge_async
from safeforge.run.lock import RunLock
from safeforge.run.store import Store, store_path
from safeforge.run.writer import write_config_yaml
from safeforge.targets import Target, create_target
from safeforge.taxonomy import merge


class Book:
    """The attack's run store: created by the first commit (with the run's meta and
    ``config.yaml``), so an attack that fails before the attacker answered leaves nothing."""

    def __init__(self, run_dir: Path, meta: dict[str, Any]) -> None:
        self.run_dir, self.meta = run_dir, meta
        self.store: Store | None = Store(store_path(run_dir)) if store_path(run_dir).is_file() else None

    def turns(self, method: str, goal_id: str) -> list[Turn]:
        if self.store is None:
            return []
        nodes = self.store.nodes(method, goal_id)
        answers = self.store.attempts_by_id([n.probe_id for n in nodes if n.probe_id])
        return [Turn(n, answers.get(n.probe_id or "")) for n in nodes]

    def commit(self, node: ConversationNode, attempt: Attempt | None = None) -> None:
        first = self.store is None
        if self.store is None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            write_config_yaml(self.run_dir, self.meta)
            self.store = Store(store_path(self.run_dir), create=True)
        verdicts = {attempt.probe.id: list(attempt.verdicts)} if attempt is not None else None
        bare = [attempt.model_copy(update={"verdicts": ()})] if attempt is not None else []
        self.store.put_nodes([node], bare, verdicts, self.meta if first else None)

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


class SharedJudges:
    """Judges shared by every campaign: concurrent requests are queued and judged together, one
    batch at a time (a judge is called by one caller at once, as a scan calls it, and an LLM
    judge still sends a batch's requests in parallel)."""

    def __init__(self, judges: Sequence[Judge]) -> None:
        self.judges = list(judges)
        self._pending: list[tuple[Attempt, asyncio.Future[list[Verdict]]]] = []
        self._draining: asyncio.Future[None] | None = None

    async def judge_async(self, attempt: Attempt) -> list[Verdict]:
        """Every judge's verdict on ``attempt`` (judges in order)."""
        done: asyncio.Future[list[Verdict]] = asyncio.get_running_loop().create_future()
        self._pending.append((attempt, done))
        if self._draining is None:
            self._draining = asyncio.ensure_future(self._drain_async())
        return await done

    async def _drain_async(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    verdicts = await judge_async(self.judges, [a for a, _ in batch])
                except Exception as exc:  # every waiting campaign sees the failure
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                for a, done in batch:
                    if not done.done():
                        done.set_result(verdicts.get(a.probe.id, []))
        finally:
            self._draining = None


@dataclass
class Context:
    """What every campaign of one attack shares."""

    config: AttackConfig
    attacker: Target
    target: Target
    judges: SharedJudges
    pruner: SharedJudges | None
    book: Book
    progress: bool


def _note(ctx: Context, text: str, *, error: bool = False) -> None:
    """A progress line (shown unless quiet); an endpoint error is always shown."""
    if ctx.progress or error:
        print(text, file=sys.stderr, flush=True)


async def _propose_async(ctx: Context, method: AttackMethod, goal: Goal, p: Proposal) -> Turn | None:
    """Ask the attacker; store its reply as ``proposed`` (usable) or ``unusable``. An endpoint
    error stores nothing (``None``): a resumed attack asks again, as a scan retries its errors."""
    started = time.time()
    probe = Probe(
        id=f"attacker:{p.node_id}",
        intent_id=goal.intent_id,
        family="attacker",
        messages=p.messages,
        expected=Expected.COMPLY,
        group_id=f"attacker:{p.node_id}",
    )
    (reply,) = await ctx.attacker.generate_async([probe])
    if reply.error is not None:
        _note(ctx, f"{p.node_id}: attacker error ({reply.error})", error=True)
        return None
    prompt, why = parse_proposal(reply.text)
    node = ConversationNode(
        id=p.node_id,
        method=method.name,
        goal_id=goal.id,
        conversation_id=p.conversation_id,
        turn=p.turn,
        parent_id=p.parent_id,
        status=NodeStatus.PROPOSED if prompt else NodeStatus.UNUSABLE,
        attacker_output=reply.text or "",
        prompt=prompt,
        note=why,
        attacker_usage=reply.usage,
        started_at=started,
        finished_at=time.time(),
    )
    ctx.book.commit(node)
    return Turn(node)


async def _off_topic_async(ctx: Context, goal: Goal, node: ConversationNode) -> str | None:
    """Why the pruner thinks ``node``'s prompt no longer asks for anything harmful (None: keep
    it; a verdict the pruner could not give keeps it too)."""
    if ctx.pruner is None:
        return None
    pruner = ctx.pruner.judges[0]
    probe = Probe(
        id=f"prune:{node.id}",
        intent_id=goal.intent_id,
        family="prune",
        messages=(Message(role="user", content=node.prompt or ""),),
        expected=Expected.REFUSE,
        group_id=f"prune:{node.id}",
    )
    (verdict,) = await ctx.pruner.judge_async(
        Attempt(probe=probe, target="prune", completion=Completion(text=""))
    )
    if verdict.label is not Label.SAFE:
        return None
    score = "" if verdict.score is None else f", p(harmful request) = {verdict.score:.2f}"
    return f"off topic: {pruner.name} reads it as a safe request{score}"


def _turn_probe(
    method: AttackMethod, goal: Goal, node: ConversationNode, messages: tuple[Message, ...]
) -> Probe:
    return Probe(
        id=node.id,
        intent_id=goal.intent_id,
        family=method.name,
        scenario=goal.scenario,
        method=Method.ATTACKER_MODEL,
        variant=f"turn{node.turn}",
        messages=messages,
        expected=Expected.REFUSE,
        group_id=f"{method.name}:{goal.id}",
        category=goal.category,
        taxonomy=merge(goal.taxonomy, method.taxonomy.ids),
        meta={
            "attack": method.name,
            "goal_id": goal.id,
            "conversation_id": node.conversation_id,
            "turn": str(node.turn),
            "parent_id": node.parent_id or "",
        },
    )


async def _answer_async(
    ctx: Context, method: AttackMethod, goal: Goal, turns: Sequence[Turn], node: ConversationNode
) -> Turn | None:
    """Prune, or send to the target and judge; store the node with its answer in one go. A
    target error stores nothing (``None``): the node stays ``proposed``, answered on resume."""
    if method.prunes and (why := await _off_topic_async(ctx, goal, node)):
        pruned = node.model_copy(
            update={"status": NodeStatus.PRUNED, "note": why, "finished_at": time.time()}
        )
        ctx.book.commit(pruned)
        return Turn(pruned)
    probe = _turn_probe(method, goal, node, method.target_messages(goal, by_id(turns), node))
    (completion,) = await ctx.target.generate_async([probe])
    if completion.error is not None:
        _note(ctx, f"{node.id}: target error ({completion.error})", error=True)
        return None
    attempt = Attempt(probe=probe, target=ctx.target.id, completion=completion)
    # judged against the goal: the request is the goal itself, whatever wrapper carried it
    view = attempt.model_copy(
        update={"probe": probe.model_copy(update={"messages": single_turn(goal, goal.text)})}
    )
    attempt = attempt.with_verdicts(await ctx.judges.judge_async(view))
    score, success, refused = rate_turn(attempt)
    update = {
        "status": NodeStatus.ANSWERED,
        "probe_id": probe.id,
        "score": score,
        "success": success,
        "refused": refused,
    }
    answered = method.review(turns, node.model_copy(update={**update, "finished_at": time.time()}))
    ctx.book.commit(answered, attempt)
    return Turn(answered, attempt)


async def campaign_async(ctx: Context, method: AttackMethod, goal: Goal) -> None:
    """Attack ``goal`` with ``method`` until it succeeds, a budget runs out or the method is done;
    an endpoint error leaves the goal unfinished (what was stored stays, a resume carries on)."""
    budget = ctx.config.budget
    turns = ctx.book.turns(method.name, goal.id)
    while True:
        pending = [t for t in turns if t.node.status is NodeStatus.PROPOSED]
        if pending:  # proposals not answered yet (in flight when a run was killed, or just made)
            results = await _gather(_answer_async(ctx, method, goal, turns, t.node) for t in pending)
            answered = {t.node.id: t for t in results if t is not None}
            turns = [answered.get(t.node.id, t) for t in turns]
            if len(answered) < len(pending):
                _note(ctx, f"{method.name} {goal.id}: unfinished (target error)")
                return
            continue
        stop = budget_stop(turns, budget)
        step = method.plan(goal, turns, budget.turns - len(turns)) if stop is None else None
        stop = stop or (step.stop if step is not None else None)
        if stop is not None or step is None:
            _note(
                ctx,
                f"{method.name} {goal.id}: {stop} after {sum(t.attempt is not None for t in turns)} queries",
            )
            return
        proposed = await _gather(_propose_async(ctx, method, goal, p) for p in step.proposals)
        turns += [t for t in proposed if t is not None]
        if None in proposed:
            _note(ctx, f"{method.name} {goal.id}: unfinished (attacker error)")
            return


async def _gather(coros: Any) -> list[Any]:
    """Run ``coros`` together; the first failure cancels the rest and is raised."""
    tasks: list[asyncio.Task[Any]] = [asyncio.ensure_future(c) for c in coros]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


def _check_resume(config: AttackConfig, meta: dict[str, Any]) -> None:
    """A new run, or the same attack continued (budgets may change); anything else is refused."""
    path = store_path(config.scan.run_dir)
    if not path.is_file():
        if config.scan.resume:
            raise SafeforgeError(f"nothing to resume: no run store in {config.scan.run_dir}")
        return
    with Store(path) as store:
        stored = store.meta()
        if stored.get("kind") != "attack":
            raise SafeforgeError(f"{config.scan.run_dir} holds a scan, not an attack; pick another --run-dir")
        if stored.get("fingerprint") != meta["fingerprint"]:
            raise SafeforgeError(
                f"{config.scan.run_dir} holds an attack with a different target, attacker, goals, methods, "
                "prompts or method settings; resume it with the same ones or pick another --run-dir"
            )
        store.set_meta(meta)  # the budgets may have changed
    write_config_yaml(config.scan.run_dir, meta)


def check_config(config: AttackConfig) -> None:
    """Judges (and TAP's pruner) that cannot run fail before anything is asked."""
    specs = [*config.scan.judges, *([config.prune_judge] if "tap" in config.methods else [])]
    config.scan.model_copy(update={"judges": specs}).check_judges()


async def attack_async(config: AttackConfig, *, progress: bool = False) -> Path:
    """Run (or resume) the attack; returns the run directory. The report is written after."""
    check_config(config)
    goals = select_goals(config.scan)
    meta = config.meta(goals)
    methods = [ATTACKS.get(name)(config.settings, config.prompts.get(name)) for name in config.methods]
    run_dir = config.scan.run_dir
    with RunLock(run_dir):
        _check_resume(config, meta)
        target = create_target(config.scan.target, config.scan.target_options())
        attacker = create_target(config.attacker, config.attacker_options())
        book = Book(run_dir, meta)
        try:
            judges = await asyncio.to_thread(create_judges, config.scan.judges)
            if "crescendo" in config.methods and not any(j.task is Task.HARM for j in judges):
                raise SafeforgeError(
                    "crescendo needs a harm judge (its steps are harmless by design, so an answer that is no "
                    "refusal is no success): add --judge 'embed?task=harm' or --judge 'llm?...&task=harm'"
                )
            pruner = (
                (await asyncio.to_thread(create_judges, [config.prune_judge]))[0]
                if any(m.prunes for m in methods)
                else None
            )
            shared = SharedJudges(judges)
            pruning = SharedJudges([pruner]) if pruner is not None else None
            ctx = Context(config, attacker, target, shared, pruning, book, progress)
            limit = asyncio.Semaphore(config.scan.concurrency)

            async def one(method: AttackMethod, goal: Goal) -> None:
                async with limit:
                    await campaign_async(ctx, method, goal)

            await _gather(one(m, g) for m in methods for g in goals)
        finally:
            book.close()
            await target.aclose()
            await attacker.aclose()
        if store_path(run_dir).is_file() and config.scan.report:
            from safeforge.attacks.outputs import write_attack_outputs

            write_attack_outputs(run_dir)
    return run_dir


def run_attack(config: AttackConfig, *, progress: bool = False) -> Path:
    """Synchronous :func:`attack_async` (also inside a running loop, like ``scan``)."""
    from safeforge.run.runner import run_sync

    coro: Coroutine[Any, Any, Path] = attack_async(config, progress=progress)
    return run_sync(coro)
