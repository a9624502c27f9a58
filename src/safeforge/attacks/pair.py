"""PAIR-style iterative refinement (Chao et al., 2023: "Jailbreaking Black Box Large Language
Models in Twenty Queries"): several independent *streams*; in each, the attacker proposes a
prompt, the target answers, the judges rate the answer 1-10 and the attacker, shown the answer
and the rating, refines. Streams advance in lock step (one round = one proposal per stream);
the attack stops at the first round in which any stream succeeded, or when a budget runs out.
The attacker sees the last ``history`` exchanges of its own stream.
"""

from __future__ import annotations

from collections.abc import Sequence

from safeforge.attacks._base import (
    ATTACKS,
    Goal,
    Planner,
    Proposal,
    Settings,
    Step,
    Turn,
    refinement_messages,
    render,
)
from safeforge.taxonomy import JAILBREAK


class Pair(Planner):
    name = "pair"
    taxonomy = JAILBREAK
    prunes = False

    def stream_id(self, goal: Goal, stream: int) -> str:
        return f"pair/{goal.id}/s{stream}"

    def plan(self, goal: Goal, turns: Sequence[Turn], remaining: int) -> Step:
        streams = [
            sorted(
                (t for t in turns if t.node.conversation_id == self.stream_id(goal, s)),
                key=lambda t: t.node.turn,
            )
            for s in range(self.settings.streams)
        ]
        round_ = min(len(stream) for stream in streams)
        system = render(self.template, goal, self.settings)
        proposals = []
        for s, stream in enumerate(streams):
            if len(stream) != round_:
                continue  # already has this round's proposal (a resumed round)
            conversation = self.stream_id(goal, s)
            history = stream[-self.settings.history :] if self.settings.history else []
            parent = stream[-1].node.id if stream else None
            note = f"\n(Stream {s + 1} of {self.settings.streams}: the streams try independently.)"
            messages = refinement_messages(system, goal, history, note)
            proposals.append(Proposal(f"{conversation}/t{round_}", conversation, round_, parent, messages))
        return Step(tuple(proposals[:remaining]))


def pair(settings: Settings, prompt: str | None = None) -> Pair:
    return Pair(settings, prompt)


ATTACKS.register(pair, "pair")
