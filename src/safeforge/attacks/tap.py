"""TAP-style tree search with pruning (Mehrotra et al., 2023: "Tree of Attacks: Jailbreaking
Black-Box LLMs Automatically"): every kept node branches into ``branching`` refinements (the
attacker shown the path from the root to it, each branch asked for a different approach);
before anything reaches the target, proposals that no longer ask for the goal are *pruned*: the
engine's off-topic judge (the ``request_harm`` classifier by default, or an LLM judge) reads
the prompt alone and a prompt it calls safe is not sent. The answered children are rated and
the best ``width`` become the next level's parents. A level with no answered child (every branch
pruned or unusable) is branched again from the same parents, up to ``RETRIES`` times. Done at
the first success, when a budget runs out, or when a level stays empty.

Node ids follow the tree (``tap/GOAL/1.0.2`` is the third child of the first child of the
second root), so a resumed search finds the level it was building and proposes only the
children still missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from safeforge.attacks._base import (
    ATTACKS,
    Goal,
    Planner,
    Proposal,
    Settings,
    Step,
    StopReason,
    Turn,
    by_id,
    lineage,
    refinement_messages,
    render,
)
from safeforge.records import NodeStatus
from safeforge.taxonomy import JAILBREAK

RETRIES = 2
"""Times a level whose children were all pruned or unusable is branched again."""


class Tap(Planner):
    name = "tap"
    taxonomy = JAILBREAK
    prunes = True

    def child_id(self, goal: Goal, parent: str | None, branch: int) -> str:
        return f"tap/{goal.id}/{branch}" if parent is None else f"{parent}.{branch}"

    def plan(self, goal: Goal, turns: Sequence[Turn], remaining: int) -> Step:
        known = by_id(turns)
        parents: list[str | None] = [None]
        level = 0
        while level <= len(turns):  # each level holds at least one stored node: bounded
            for attempt in range(RETRIES + 1):
                count = self.settings.branching * (attempt + 1)
                children = [(p, b, self.child_id(goal, p, b)) for p in parents for b in range(count)]
                missing = [(p, b, cid) for p, b, cid in children if cid not in known]
                if missing:
                    proposals = (
                        self._propose(goal, known, p, b, cid, level) for p, b, cid in missing[:remaining]
                    )
                    return Step(tuple(proposals))
                answered = [
                    known[c].node for _, _, c in children if known[c].node.status is NodeStatus.ANSWERED
                ]
                if answered:
                    break
            else:
                return Step(stop=StopReason.EXHAUSTED)
            answered.sort(key=lambda n: (-(n.score or 0.0), n.id))
            parents = [n.id for n in answered[: self.settings.width]]
            level += 1
        return Step(stop=StopReason.EXHAUSTED)

    def _propose(
        self, goal: Goal, known: Mapping[str, Turn], parent: str | None, branch: int, node_id: str, level: int
    ) -> Proposal:
        system = render(self.template, goal, self.settings)
        note = f"\n(Variation {branch + 1}: take a route unlike the other variations'.)"
        messages = refinement_messages(system, goal, lineage(known, parent), note)
        return Proposal(node_id, f"tap/{goal.id}", level, parent, messages)


def tap(settings: Settings, prompt: str | None = None) -> Tap:
    return Tap(settings, prompt)


ATTACKS.register(tap, "tap")
