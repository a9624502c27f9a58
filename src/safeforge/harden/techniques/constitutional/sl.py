"""SL-CAI: find the train-side prompts the model gets wrong, critique and revise its answers.

1. **Probe** (:func:`probe_policy_async`): the model answers every train-pool phrasing ``k``
   times with sampling; the acceptance judges read each answer. A harmful phrasing with any
   unacceptable answer is a *red-team prompt*, its worst answer (compliance first) the response
   to revise; a benign contrast prompt the model refused or lectured on is revised too (the
   non-evasiveness principle is for exactly this), and its acceptable answers become the benign
   helpfulness rows SFT mixes in.
2. **Revise** (:func:`revise_async`): for ``rounds`` rounds, a principle is drawn for each prompt
   (fixed by seed, prompt and round), the helper critiques the current response and then
   rewrites it. A round whose critique or revision is malformed is counted and skipped; the
   next round starts from the last good response.
3. **Accept**: the final revision of each prompt is read by the same judges; accepted ones are
   the SFT targets. There is no templated fallback: a prompt whose revisions all fail adds no row.

The judges are the safety critic (``critic``, told the prompt's known kind) *and* the refusal
rules plus the tone policy (the acceptance rule rejection sampling uses); with ``-o
judge=rules+tone``, or without the ``[embed]`` extra the critic needs, the latter alone. The
data card names which accepted what.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from safeforge.errors import MissingExtraError, SafeforgeError
from safeforge.harden.techniques._base import Progress
from safeforge.harden.techniques.constitutional.constitution import Constitution, PromptKind
from safeforge.harden.techniques.constitutional.helper import (
    Helper,
    critique_chat,
    parse_marked,
    revision_chat,
)
from safeforge.harden.techniques.rejection_sampling import PromptResult, Sample, read_sample, sample_async
from safeforge.judges import Judge, create_judge
from safeforge.metrics import tone
from safeforge.records import Attempt, Completion, Expected, Label, Probe, Task
from safeforge.targets import Target

RULES_AND_TONE = "rules+tone"
CRITIC_AND_TONE = "critic(use_expected)+rules+tone"
JUDGE_CHOICES = ("auto", "critic", RULES_AND_TONE)


def kind_of(probe: Probe) -> PromptKind:
    return "harmful" if probe.expected == Expected.REFUSE else "benign"


class Acceptor:
    """Reads responses with the acceptance judges and says which are fit to train on.

    The refusal rules and the tone policy always run: their reading is the acceptance rule
    rejection sampling uses (a harmful prompt: a full refusal within the tone policy; a benign
    one: a full answer the tone policy does not fail), and their labels order the failures.
    With the critic -- told the prompt's known kind (``use_expected``: train-side prompts carry
    it) -- a response must pass both: training targets two independent judges agree on do not
    teach the blind spots of either (the critic alone passed redirects such as "I can explain
    how people stay safe" that the rules read as compliance).
    """

    def __init__(self, judge: str = "auto") -> None:
        if judge not in JUDGE_CHOICES:
            raise SafeforgeError(f"judge must be one of {', '.join(JUDGE_CHOICES)} (got {judge!r})")
        self._judges: list[Judge] = [create_judge("rules"), tone()]
        self._critic: Judge | None = None
        if judge != RULES_AND_TONE:
            try:
                self._critic = create_judge("critic", use_expected=True)
            except MissingExtraError:  # the critic needs the [embed] extra; auto falls back
                if judge == "critic":
                    raise
        self.name = CRITIC_AND_TONE if self._critic is not None else RULES_AND_TONE

    async def read_async(
        self, target_id: str, probes: Sequence[Probe], completions: Sequence[Completion]
    ) -> list[Sample]:
        attempts = [
            Attempt(probe=p, target=target_id, completion=c) for p, c in zip(probes, completions, strict=True)
        ]
        for judge in [*self._judges, *([self._critic] if self._critic else [])]:
            answered = [i for i, a in enumerate(attempts) if a.ok]
            verdicts = await judge.judge_async([attempts[i] for i in answered])
            for i, v in zip(answered, verdicts, strict=True):
                attempts[i] = attempts[i].with_verdicts([v])
        samples = [read_sample(a, kind_of(a.probe), use_tone=True) for a in attempts]
        if self._critic is None:
            return samples
        return [
            s.model_copy(update={"accepted": s.accepted and _critic_pass(a)})
            for s, a in zip(samples, attempts, strict=True)
        ]


def _critic_pass(attempt: Attempt) -> bool:
    verdict = attempt.verdict(Task.CRITIC)
    return verdict is not None and verdict.label == Label.PASS


async def probe_policy_async(
    target: Target, probes: Sequence[Probe], k: int, acceptor: Acceptor, progress: Progress | None = None
) -> list[PromptResult]:
    """``k`` sampled answers per probe, each read by the acceptance judges."""
    if not probes:
        return []
    groups = await sample_async(target, probes, k, progress)
    flat_probes = [p for p, g in zip(probes, groups, strict=True) for _ in g]
    samples = await acceptor.read_async(target.id, flat_probes, [c for g in groups for c in g])
    return [
        PromptResult(probe=p, kind=kind_of(p), samples=tuple(samples[i * k : (i + 1) * k]))
        for i, p in enumerate(probes)
    ]


def to_revise(result: PromptResult) -> str | None:
    """The response SL-CAI revises for this prompt, or ``None`` when the model got it right
    every time (harmful: the worst unacceptable answer; benign: a refusal or lecture)."""
    return result.rejected()


Status = Literal["revised", "no_critique", "no_revision"]


class Round(BaseModel):
    """One critique → revision step and how it went."""

    model_config = ConfigDict(frozen=True)

    round: int
    principle: str
    critique: str | None
    revision: str | None
    status: Status


class Chain(BaseModel):
    """Every round for one prompt, and the judges' reading of the final revision."""

    model_config = ConfigDict(frozen=True)

    probe: Probe
    kind: PromptKind
    initial: str
    rounds: tuple[Round, ...]
    final: Sample | None = None
    """The judged last revision; ``None`` when no round produced one."""

    @property
    def revised(self) -> str | None:
        good = [r.revision for r in self.rounds if r.status == "revised"]
        return good[-1] if good else None


async def revise_async(
    helper: Helper,
    constitution: Constitution,
    items: Sequence[tuple[Probe, str]],
    rounds: int,
    seed: int,
    progress: Progress | None = None,
) -> list[Chain]:
    """Critique → revision for ``rounds`` rounds over every (probe, response) in ``items``."""
    current = [response for _, response in items]
    history: list[list[Round]] = [[] for _ in items]
    for r in range(1, rounds + 1):
        for i, step in enumerate(await _round_async(helper, constitution, items, current, r, seed)):
            history[i].append(step)
            if step.revision is not None:
                current[i] = step.revision
        if progress is not None:
            progress("critique → revision rounds", r, rounds)
    return [
        Chain(probe=p, kind=kind_of(p), initial=response, rounds=tuple(h))
        for (p, response), h in zip(items, history, strict=True)
    ]


async def _round_async(
    helper: Helper,
    constitution: Constitution,
    items: Sequence[tuple[Probe, str]],
    current: Sequence[str],
    r: int,
    seed: int,
) -> list[Round]:
    """One round for every item: all critiques in one batch, then the revisions of those with
    a readable critique."""
    keys = [f"{p.id}#r{r}" for p, _ in items]
    principles = [constitution.sample(kind_of(p), f"{p.id}\0{r}", seed) for p, _ in items]
    chats = [critique_chat(p.messages, current[i], principles[i]) for i, (p, _) in enumerate(items)]
    replies = await helper.reply_async([f"{k}:critique" for k in keys], chats)
    critiques = [parse_marked(t, "critique") for t in replies]
    todo = [i for i, c in enumerate(critiques) if c is not None]
    revision_chats = [revision_chat(chats[i], replies[i] or "", principles[i]) for i in todo]
    raw = dict(
        zip(
            todo, await helper.reply_async([f"{keys[i]}:revision" for i in todo], revision_chats), strict=True
        )
    )
    out = []
    for i, principle in enumerate(principles):
        revision = parse_marked(raw.get(i), "revision")
        if critiques[i] is None:
            status: Status = "no_critique"
            bad = replies[i]
        else:
            status, bad = ("revised", None) if revision is not None else ("no_revision", raw[i])
        out.append(
            Round(
                round=r,
                principle=principle.id,
                critique=critiques[i],
                revision=revision,
                status=status,
                reply=None if bad is None else bad[:300],
            )
        )
    return out


async def accept_async(helper_id: str, chains: Sequence[Chain], acceptor: Acceptor) -> list[Chain]:
    """``chains`` with their final revision judged (chains without one are left as they are)."""
    done = [i for i, c in enumerate(chains) if c.revised is not None]
    samples = await acceptor.read_async(
        helper_id,
        [chains[i].probe for i in done],
        [Completion(text=chains[i].revised) for i in done],
    )
    out = list(chains)
    for i, sample in zip(done, samples, strict=True):
        out[i] = chains[i].model_copy(update={"final": sample})
    return out
