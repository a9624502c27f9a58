"""An attack run's ``AttackSummary`` (``metrics.attacks``), read back from its run store.

Whether a goal is finished is asked of the method itself, over the stored turns, under the
budgets the run was last given (``stop_reason``): the same question the engine asks before each
step, so the report and a resumed run can never disagree about which goals are done.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from safeforge.attacks._base import (
    ATTACKS,
    Goal,
    Turn,
    active_seconds,
    by_id,
    lineage,
    stop_reason,
    tokens_used,
)
from safeforge.attacks.config import AttackConfig
from safeforge.errors import SafeforgeError
from safeforge.metrics.attacks import (
    AttackSummary,
    Conversation,
    ConversationStep,
    GoalResult,
    MethodResult,
    method_result,
)
from safeforge.records import NodeStatus, Task
from safeforge.run.config import ScanConfig
from safeforge.run.store import Store, store_path

WINNERS_PER_METHOD = 8


def attack_config(meta: dict[str, Any], run_dir: Path) -> AttackConfig:
    """The stored attack config (the target side as a ``ScanConfig``)."""
    if meta.get("kind") != "attack":
        raise SafeforgeError(f"{run_dir} holds a scan, not an attack")
    scan = ScanConfig.from_mapping({**meta["config"], "run_dir": str(run_dir)}, source=str(run_dir))
    return AttackConfig.model_validate({**meta["attack"], "scan": scan})


def _goal_result(method: Any, goal: Goal, turns: list[Turn], config: AttackConfig) -> GoalResult:
    stop = stop_reason(method, goal, turns, config.budget)
    winner = next((t.node.id for t in turns if t.node.success), None)
    attacker, target = tokens_used(turns)
    status = [t.node.status for t in turns]
    return GoalResult(
        method=method.name,
        goal_id=goal.id,
        goal=goal.text,
        finished=stop is not None,
        stop=None if stop is None else stop.value,
        success=winner is not None,
        queries=status.count(NodeStatus.ANSWERED),
        proposals=len(turns),
        unusable=status.count(NodeStatus.UNUSABLE),
        pruned=status.count(NodeStatus.PRUNED),
        backtracked=sum(t.node.backtracked for t in turns),
        attacker_tokens=attacker,
        target_tokens=target,
        seconds=round(active_seconds(turns), 3),
        winner=winner,
    )


def _conversation(method: str, goal: Goal, turns: list[Turn], winner: str) -> Conversation:
    """The path from the first proposal to the winning one (parent links), as the report shows it."""
    steps = [
        ConversationStep(
            node_id=t.node.id,
            turn=t.node.turn,
            prompt=t.node.prompt if t.node.prompt is not None else t.node.attacker_output,
            response=t.response,
            score=t.node.score,
            note=t.node.note,
        )
        for t in lineage(by_id(turns), winner)
    ]
    return Conversation(method=method, goal_id=goal.id, goal=goal.text, steps=steps)


def summarize_attack(run_dir: Path) -> AttackSummary:
    """Every method's ASR, turns to success and cost; every goal's outcome; the winners."""
    path = store_path(run_dir)
    with Store(path) as store:
        meta = store.meta()
        config = attack_config(meta, run_dir)
        nodes = store.nodes()
        answers = store.attempts_by_id([n.probe_id for n in nodes if n.probe_id])
    texts = {g["id"]: g["text"] for g in meta.get("goals", [])}
    by_goal: dict[tuple[str, str], list[Turn]] = defaultdict(list)
    for node in nodes:
        by_goal[(node.method, node.goal_id)].append(Turn(node, answers.get(node.probe_id or "")))
    methods: list[MethodResult] = []
    goals: list[GoalResult] = []
    winners: list[Conversation] = []
    for name in config.methods:
        method = ATTACKS.get(name)(config.settings, config.prompts.get(name))
        results = []
        for goal_id in dict.fromkeys([*texts, *(g for m, g in by_goal if m == name)]):
            goal = Goal(goal_id, texts.get(goal_id, ""), goal_id)
            turns = by_goal.get((name, goal_id), [])
            result = _goal_result(method, goal, turns, config)
            results.append(result)
            if result.winner is not None and sum(w.method == name for w in winners) < WINNERS_PER_METHOD:
                winners.append(_conversation(name, goal, turns, result.winner))
        goals += results
        methods.append(method_result(name, results, max(len(texts), len(results)), method.taxonomy.ids))
    harm_judged = any(a.verdict(Task.HARM) is not None for a in answers.values())
    return AttackSummary(
        methods=methods, goals=goals, winners=winners, harm_judged=harm_judged or not answers
    )


def is_attack_run(run_dir: Path) -> bool:
    path = store_path(Path(run_dir))
    if not path.is_file():
        return False
    with Store(path) as store:
        return bool(store.meta().get("kind") == "attack")
