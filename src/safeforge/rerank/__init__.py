"""Critic reranking: best-of-N under a safety critic, as a library, a target and a server.

``rerank(prompt, candidates, critic)`` picks the best of given candidates; ``RerankTarget``
(``rerank:SPEC.yaml``) draws them from any target first; ``safeforge serve`` puts the same in
front of a model behind an OpenAI-compatible API, recording every decision so that the
chosen-vs-rejected candidates can be exported as DPO pairs (:func:`dpo_pairs`).
"""

from __future__ import annotations

from safeforge.rerank.core import (
    DEFAULT_CRITIC,
    Critic,
    Ranking,
    as_probe,
    blind,
    choose,
    critic_judge,
    rerank,
    rerank_async,
    rerank_many_async,
)
from safeforge.rerank.pairs import RERANK_JUDGE, decision_attempts, dpo_pairs
from safeforge.rerank.target import DrawsN, RerankSpec, RerankTarget, draw_async

__all__ = [
    "DEFAULT_CRITIC",
    "RERANK_JUDGE",
    "Critic",
    "DrawsN",
    "Ranking",
    "RerankSpec",
    "RerankTarget",
    "as_probe",
    "blind",
    "choose",
    "critic_judge",
    "decision_attempts",
    "dpo_pairs",
    "draw_async",
    "rerank",
    "rerank_async",
    "rerank_many_async",
]
