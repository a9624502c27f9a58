"""RL-CAI: preference pairs from AI feedback, for DPO (and optionally a reward model).

The policy (the SL-CAI model, or the base model) answers each prompt twice with sampling. The
helper is asked which answer is better under a principle drawn for that prompt -- twice, with
the answers in both orders, because language models favour a position: the preference for the
first answer is the mean of ``P(A)`` in the first order and ``P(B)`` in the second, which
cancels a constant position bias. How often the two orders disagree is recorded; so is the
share of choices that went to label (A), the bias itself.

A local ``hf:`` helper gives probabilities (label log-probabilities), a chat helper a parsed
label (probability 0 or 1). A pair is kept only when both orders prefer the same answer; when
they disagree the position, not the answers, decided at least one of the two choices, and the
pair counts as a tie. (Measured on the demo: a helper whose label probabilities lean 98 % to
(B) agrees with itself across orders on under 1 % of pairs; DPO on the sign of its debiased
mean preference -- a coin flip -- raised FRR from 8 % to 98 %.) Identical answers, a
malformed choice in either order and ties are counted and skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from safeforge.harden.techniques._base import Progress
from safeforge.harden.techniques.constitutional.constitution import Constitution, PromptKind
from safeforge.harden.techniques.constitutional.helper import Helper, choice_chat
from safeforge.harden.techniques.constitutional.sl import kind_of
from safeforge.harden.techniques.rejection_sampling import sample_async
from safeforge.metrics import Rate
from safeforge.metrics.summarize import rate_of
from safeforge.records import Probe
from safeforge.targets import Target

PairStatus = Literal["pair", "identical", "malformed", "tie"]


class Feedback(BaseModel):
    """Two answers to one prompt and the helper's preference between them, in both orders."""

    model_config = ConfigDict(frozen=True)

    probe: Probe
    kind: PromptKind
    first: str
    second: str
    principle: str
    p_ab: float | None = None
    """P(first is better), asked with the first answer labelled (A)."""
    p_ba: float | None = None
    """P(first is better), asked with the first answer labelled (B)."""
    status: PairStatus

    @property
    def p_first(self) -> float | None:
        """The position-debiased preference for the first answer."""
        if self.p_ab is None or self.p_ba is None:
            return None
        return (self.p_ab + self.p_ba) / 2

    @property
    def agreed(self) -> bool | None:
        """Whether both orders preferred the same answer (``None`` if either is missing)."""
        if self.p_ab is None or self.p_ba is None:
            return None
        return (self.p_ab > 0.5) == (self.p_ba > 0.5) and self.p_ab != 0.5 and self.p_ba != 0.5

    def chosen_rejected(self) -> tuple[str, str] | None:
        p = self.p_first
        if self.status != "pair" or p is None:
            return None
        return (self.first, self.second) if p > 0.5 else (self.second, self.first)


async def sample_pairs_async(
    policy: Target, probes: Sequence[Probe], progress: Progress | None = None
) -> list[tuple[str, str]]:
    """Two sampled answers per probe (an error or empty answer reads as ``""``)."""
    groups = await sample_async(policy, probes, 2, progress)
    return [((g[0].text or "").strip(), (g[1].text or "").strip()) for g in groups]


async def feedback_async(
    helper: Helper,
    constitution: Constitution,
    probes: Sequence[Probe],
    answers: Sequence[tuple[str, str]],
    seed: int,
) -> list[Feedback]:
    """The helper's preference for each pair of answers, asked in both orders."""
    rows: list[Feedback] = []
    ask: list[int] = []
    for i, (p, (a, b)) in enumerate(zip(probes, answers, strict=True)):
        principle = constitution.sample(kind_of(p), f"{p.id}\0choice", seed)
        status: PairStatus = "identical" if not a or not b or a == b else "pair"
        rows.append(
            Feedback(probe=p, kind=kind_of(p), first=a, second=b, principle=principle.id, status=status)
        )
        if status == "pair":
            ask.append(i)
    principles = {p.id: p for p in constitution.principles}
    chats = []
    for i in ask:
        row, principle = rows[i], principles[rows[i].principle]
        chats.append(choice_chat(row.probe.messages, row.first, row.second, principle))
        chats.append(choice_chat(row.probe.messages, row.second, row.first, principle))
    keys = [f"{rows[i].probe.id}:{order}" for i in ask for order in ("ab", "ba")]
    prefs = await helper.prefer_async(keys, chats)
    for j, i in enumerate(ask):
        p_ab, p_a_swapped = prefs[2 * j], prefs[2 * j + 1]
        p_ba = None if p_a_swapped is None else 1.0 - p_a_swapped
        row = rows[i].model_copy(update={"p_ab": p_ab, "p_ba": p_ba})
        status = "malformed" if row.p_first is None else "pair" if row.agreed else "tie"
        rows[i] = row.model_copy(update={"status": status})
    return rows


class FeedbackStats(BaseModel):
    """What the data card reports about the AI feedback."""

    model_config = ConfigDict(frozen=True)

    prompts: int
    identical_skipped: int
    malformed_choices: int
    ties: int
    pairs: int
    order_agreement: Rate
    position_a_share: Rate
    by_principle: dict[str, int]


def feedback_stats(rows: Sequence[Feedback]) -> FeedbackStats:
    asked = [r for r in rows if r.p_ab is not None and r.p_ba is not None]
    agreement = rate_of(
        ("pos" if r.agreed else "neg" for r in asked),
        "share of pairs where both orders preferred the same answer",
    )
    # each order's choice went to label (A) when P(A) > 0.5: P(A) is p_ab in the first order and
    # 1 - p_ba in the second (where the first answer wore the (B) label)
    picks = [x for r in asked for x in (r.p_ab or 0.0, 1.0 - (r.p_ba or 0.0)) if x != 0.5]
    position = rate_of(
        ("pos" if x > 0.5 else "neg" for x in picks), "share of choices that went to label (A)"
    )
    principles: dict[str, int] = {}
    for r in rows:
        if r.status == "pair":
            principles[r.principle] = principles.get(r.principle, 0) + 1
    return FeedbackStats(
        prompts=len(rows),
        identical_skipped=sum(r.status == "identical" for r in rows),
        malformed_choices=sum(r.status == "malformed" for r in rows),
        ties=sum(r.status == "tie" for r in rows),
        pairs=sum(r.status == "pair" for r in rows),
        order_agreement=agreement,
        position_a_share=position,
        by_principle=dict(sorted(principles.items())),
    )
