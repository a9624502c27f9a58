"""The Constitutional AI data card and the TRL rows, each row with its provenance.

Every SFT row says which prompt it answers (``probe_id``, ``intent_id``, ``category``,
``kind``), where its answer came from (``origin``: ``revision`` by the helper, or ``sample``:
the model's own acceptable answer to a benign prompt), the principles and number of rounds that
revised it, the helper and the judge that accepted it. Every DPO row adds the principle the
feedback used, both orders' preferences and whether they agreed.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from safeforge.harden.techniques.constitutional.helper import Feedback as FeedbackMode
from safeforge.harden.techniques.constitutional.rl import Feedback, FeedbackStats
from safeforge.harden.techniques.constitutional.sl import Chain
from safeforge.harden.techniques.rejection_sampling import PromptResult, n_benign_for
from safeforge.records import Probe


def _turns(probe: Probe) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in probe.messages]


def _assistant(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": text}]


def _meta(probe: Probe, kind: str, origin: str) -> dict[str, Any]:
    return {
        "probe_id": probe.id,
        "intent_id": probe.intent_id,
        "category": probe.category,
        "kind": kind,
        "origin": origin,
    }


def _sample(rows: list[dict[str, Any]], n: int, seed: int, tag: str) -> list[dict[str, Any]]:
    """At most ``n`` of ``rows``, a seeded sample in a stable order."""
    if n >= len(rows):
        return list(rows)
    return random.Random(f"{tag}\0{seed}").sample(rows, max(0, n))


def sft_rows(
    chains: Sequence[Chain],
    probed: Sequence[PromptResult],
    *,
    helper: str,
    accepted_by: str,
    benign_ratio: float,
    seed: int,
) -> list[dict[str, Any]]:
    """Accepted final revisions, plus the model's own acceptable benign answers mixed in so that
    benign rows are ``benign_ratio`` of the set (accepted benign revisions count first)."""
    revised = []
    for c in chains:
        if c.final is None or not c.final.accepted:
            continue
        good = [r for r in c.rounds if r.status == "revised"]
        revised.append(
            {
                "messages": [*_turns(c.probe), *_assistant(c.final.text)],
                **_meta(c.probe, c.kind, "revision"),
                "principles": [r.principle for r in good],
                "rounds": len(good),
                "helper": helper,
                "accepted_by": accepted_by,
            }
        )
    n_harmful = sum(r["kind"] == "harmful" for r in revised)
    n_benign_revised = len(revised) - n_harmful
    helpful = [
        {
            "messages": [*_turns(r.probe), *_assistant(r.accepted[0])],
            **_meta(r.probe, "benign", "sample"),
            "principles": [],
            "rounds": 0,
            "helper": None,
            "accepted_by": accepted_by,
        }
        for r in probed
        if r.kind == "benign" and r.accepted
    ]
    wanted = n_benign_for(n_harmful, benign_ratio) - n_benign_revised
    rows = revised + _sample(helpful, wanted, seed, "cai-benign")
    random.Random(f"cai-order\0{seed}").shuffle(rows)
    return rows


def dpo_rows(feedback: Sequence[Feedback], *, helper: str, mode: FeedbackMode) -> list[dict[str, Any]]:
    """One prompt/chosen/rejected row per usable AI-feedback pair."""
    rows = []
    for f in feedback:
        pair = f.chosen_rejected()
        if pair is None:
            continue
        rows.append(
            {
                "prompt": _turns(f.probe),
                "chosen": _assistant(pair[0]),
                "rejected": _assistant(pair[1]),
                **_meta(f.probe, f.kind, "ai_feedback"),
                "principle": f.principle,
                "p_ab": f.p_ab,
                "p_ba": f.p_ba,
                "p_first": f.p_first,
                "agreed": f.agreed,
                "helper": helper,
                "feedback": mode,
            }
        )
    return rows


def rl_prompts(
    probed: Sequence[PromptResult], harmful: Sequence[Probe], ratio: float, seed: int
) -> list[Probe]:
    """The prompts RL-CAI samples pairs for: the red-team prompts, plus benign prompts at
    ``ratio`` of the set (a seeded sample)."""
    benign = [r.probe for r in probed if r.kind == "benign"]
    n = n_benign_for(len(harmful), ratio)
    picked = benign if n >= len(benign) else random.Random(f"cai-rl\0{seed}").sample(benign, n)
    return [*harmful, *picked]


class SLStats(BaseModel):
    """What the data card reports about critique → revision."""

    model_config = ConfigDict(frozen=True)

    harmful_prompts: int = Field(description="Train-side harmful phrasings the model was sampled on.")
    benign_prompts: int
    samples_per_prompt: int
    red_team_prompts: int = Field(description="Harmful phrasings with at least one unacceptable answer.")
    benign_failures: int = Field(description="Benign prompts the model refused or lectured on.")
    revised_prompts: int = Field(description="Prompts sent to the helper (after max_prompts).")
    rounds: int
    critique_requests: int
    malformed_critiques: int
    malformed_revisions: int
    revised_rounds: int
    with_revision: int = Field(description="Prompts with at least one good revision.")
    accepted: int
    rejected: int
    accepted_by_kind: dict[str, int]
    rounds_by_principle: dict[str, int]
    sft_rows: int
    sft_revision_rows: int
    sft_benign_sample_rows: int


def sl_stats(
    probed: Sequence[PromptResult],
    chains: Sequence[Chain],
    rows: Sequence[dict[str, Any]],
    k: int,
    rounds: int,
) -> SLStats:
    rounds_all = [r for c in chains for r in c.rounds]
    judged = [c for c in chains if c.final is not None]
    accepted = [c for c in judged if c.final is not None and c.final.accepted]
    return SLStats(
        harmful_prompts=sum(r.kind == "harmful" for r in probed),
        benign_prompts=sum(r.kind == "benign" for r in probed),
        samples_per_prompt=k,
        red_team_prompts=sum(r.kind == "harmful" and r.rejected() is not None for r in probed),
        benign_failures=sum(r.kind == "benign" and r.rejected() is not None for r in probed),
        revised_prompts=len(chains),
        rounds=rounds,
        critique_requests=len(rounds_all),
        malformed_critiques=sum(r.status == "no_critique" for r in rounds_all),
        malformed_revisions=sum(r.status == "no_revision" for r in rounds_all),
        revised_rounds=sum(r.status == "revised" for r in rounds_all),
        with_revision=len(judged),
        accepted=len(accepted),
        rejected=len(judged) - len(accepted),
        accepted_by_kind=dict(sorted(Counter(c.kind for c in accepted).items())),
        rounds_by_principle=dict(sorted(Counter(r.principle for r in rounds_all).items())),
        sft_rows=len(rows),
        sft_revision_rows=sum(r["origin"] == "revision" for r in rows),
        sft_benign_sample_rows=sum(r["origin"] == "sample" for r in rows),
    )


class CAIDataCard(BaseModel):
    """What the Constitutional AI data is made of; ``data/data_card.json`` and the harden report."""

    model_config = ConfigDict(frozen=True)

    technique: Literal["constitutional"] = "constitutional"
    phases: tuple[str, ...]
    config: dict[str, Any]
    target: str
    helper: str
    helper_base_url: str | None
    feedback: FeedbackMode = Field(
        description="logprobs: label probabilities of a local helper; parsed: its reply."
    )
    constitution: dict[str, Any]
    accepted_by: str = Field(
        description="Judges that accepted revisions: 'critic(use_expected)+rules+tone' or 'rules+tone'."
    )
    train_intents: tuple[str, ...]
    eval_intents: tuple[str, ...]
    disjoint_note: str = (
        "Prompts come only from the train-side pool (train intents; red-team failures found by "
        "sampling the model on them); the evaluation scans use the held-out intents."
    )
    sl: SLStats | None = Field(description="None when SL-CAI did not run (-o rl_from=base).")
    rl: FeedbackStats | None = None
    dpo_pairs: int = 0
    dpo_pairs_by_kind: dict[str, int] = Field(default_factory=dict)
    reward_model: dict[str, Any] | None = None
