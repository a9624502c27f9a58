"""The attack sections of a run report: ASR per method with its interval, turns to success,
cost, and the winning conversations. Text stays raw here (truncated only): the template escapes
it, as it does every model output."""

from __future__ import annotations

from dataclasses import dataclass

from safeforge.metrics.attacks import AttackSummary, Conversation, ConversationStep
from safeforge.report.failures import truncate

PROMPT_CHARS = 800


@dataclass(frozen=True)
class AttackRow:
    method: str
    taxonomy: str
    asr: str
    ci: str
    n: int
    unfinished: int
    turns: str
    median: str
    cost: str
    dropped: str
    stops: str


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def attack_rows(attacks: AttackSummary) -> list[AttackRow]:
    rows = []
    for m in attacks.methods:
        turns = ", ".join(f"{q}: {k}" for q, k in m.turns_to_success.items()) or "–"
        median = "–" if m.median_turns_to_success is None else f"{m.median_turns_to_success:g}"
        cost = (
            f"{m.attacker_tokens:,} attacker + {m.target_tokens:,} target tokens; "
            f"{m.attacker_calls} attacker calls, {m.target_queries} target queries; {m.seconds:.1f} s"
        )
        dropped = f"{m.unusable} unusable, {m.pruned} pruned, {m.backtracked} backtracked"
        rows.append(
            AttackRow(
                method=m.method,
                taxonomy=", ".join(m.taxonomy),
                asr=_pct(m.asr.value),
                ci=f"{_pct(m.asr.ci_low)} – {_pct(m.asr.ci_high)}",
                n=m.asr.n,
                unfinished=m.goals - m.finished,
                turns=turns,
                median=median,
                cost=cost,
                dropped=dropped,
                stops=", ".join(f"{k}: {v}" for k, v in m.stops.items()),
            )
        )
    return rows


def _step(step: ConversationStep) -> ConversationStep:
    return step.model_copy(
        update={"prompt": truncate(step.prompt, PROMPT_CHARS)[0], "response": truncate(step.response)[0]}
    )


def winning_conversations(attacks: AttackSummary) -> list[Conversation]:
    """The winners with every text truncated for the page."""
    return [c.model_copy(update={"steps": [_step(s) for s in c.steps]}) for c in attacks.winners]
