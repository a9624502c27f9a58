"""Reranking decisions as records, and chosen-vs-rejected candidates as DPO pairs.

Every candidate of a decision becomes an :class:`~safeforge.records.Attempt` (probe id
``REQUEST#cJ``, ``meta`` naming the request, the candidate's index and N) carrying the critic's
own verdicts and one verdict of the reranker itself: judge ``rerank``, task ``critic``, label
``pass`` for the chosen candidate and ``fail`` for the others, score = the critic's score (a
lone candidate, at N = 1, has nothing to be chosen over and gets no such verdict). So
a run store holds each decision in full, and :func:`dpo_pairs` reads it back as TRL
preference rows -- the chosen answer against the worst-scored one -- which ``safeforge.harden``
trains on (``python -m safeforge.harden.train`` with ``trainer: dpo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from safeforge.records import Attempt, Completion, Label, Probe, Task, Verdict
from safeforge.rerank.core import Ranking

RERANK_JUDGE = "rerank"


def decision_attempts(
    probe: Probe, candidates: Sequence[Completion], ranking: Ranking, target: str
) -> list[Attempt]:
    """One attempt per candidate, with the critic's verdicts and the reranker's decision. A
    single candidate is no decision: it is stored alone, without a ``rerank`` verdict."""
    n = len(candidates)
    if n == 1:
        meta = {**probe.meta, "request_id": probe.id, "candidate": "0", "n": "1"}
        only = probe.model_copy(update={"id": f"{probe.id}#c0", "meta": meta})
        return [Attempt(probe=only, target=target, completion=candidates[0], verdicts=ranking.verdicts[0])]
    out = []
    for j, completion in enumerate(candidates):
        meta = {**probe.meta, "request_id": probe.id, "candidate": str(j), "n": str(n)}
        picked = j == ranking.choice
        decision = Verdict(
            judge=RERANK_JUDGE,
            task=Task.CRITIC,
            label=Label.PASS if picked else Label.FAIL,
            score=ranking.scores[j],
            rationale=f"{'chosen' if picked else 'not chosen'}: candidate {j} of {n} under {ranking.critic}",
        )
        attempt = Attempt(
            probe=probe.model_copy(update={"id": f"{probe.id}#c{j}", "meta": meta}),
            target=target,
            completion=completion,
            verdicts=(*ranking.verdicts[j], decision),
        )
        out.append(attempt)
    return out


def _turns(probe: Probe) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in probe.messages]


def dpo_pairs(attempts: Sequence[Attempt]) -> list[dict[str, Any]]:
    """TRL conversational DPO rows (``prompt`` / ``chosen`` / ``rejected``, plus ``request_id``,
    ``chosen_score``, ``rejected_score``) from stored decisions: per request, the chosen
    candidate against the lowest-scored other one. Requests where no other candidate scored
    strictly lower with a different answer give no pair (nothing to prefer)."""
    groups: dict[str, list[tuple[Attempt, Verdict]]] = {}
    for a in attempts:
        v = a.verdict(Task.CRITIC, RERANK_JUDGE)
        if v is not None and "request_id" in a.probe.meta:
            groups.setdefault(a.probe.meta["request_id"], []).append((a, v))
    rows = []
    for request_id, group in groups.items():
        best = next(((a, v) for a, v in group if v.label is Label.PASS), None)
        if best is None or best[1].score is None or not best[0].ok:
            continue
        good, top = best[0], best[1].score
        worse = [
            (v.score, a)
            for a, v in group
            if a.ok and v.score is not None and v.score < top and a.response != good.response
        ]
        if not worse:
            continue
        score, bad = min(worse, key=lambda t: t[0])
        rows.append(
            {
                "prompt": _turns(good.probe),
                "chosen": [{"role": "assistant", "content": good.response or ""}],
                "rejected": [{"role": "assistant", "content": bad.response or ""}],
                "request_id": request_id,
                "chosen_score": top,
                "rejected_score": score,
            }
        )
    return rows
