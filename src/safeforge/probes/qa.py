"""Question-answering files with answerability labels: measure abstention on your own data.

``--dataset qa:PATH`` (or any file with ``question`` and ``answerable`` columns, detected) reads
CSV, JSONL or JSON rows with

- ``question``: the question asked (one user turn);
- ``answerable``: ``true`` / ``false`` (also ``yes`` / ``no``, ``1`` / ``0``): false means a
  careful model should abstain (``expected = abstain``), true that it should answer (``comply``);
- ``answers`` or ``answer`` (optional): reference answers, as a JSON list, ``;``-separated, or
  one string; carried in ``meta["answers"]`` (one per line) for the uncertainty estimators'
  is-this-answer-wrong check;
- ``id`` / ``question_id`` and ``category`` / ``source`` (optional).

SelfAware's release (a JSON object ``{"example": [{"question_id", "question", "answer",
"answerable", "source"}, ...]}``) reads as it is. Every row becomes a reward-overfitting probe
of method ``unanswerable_questions``, so the abstention metrics (abstention rate, confident
hallucination, over-abstention on the answerable rows, precision and F1) count it.
"""

from __future__ import annotations

import ast
import json

from safeforge.errors import SafeforgeError
from safeforge.probes.benchmarks import Row, Source, _need, dataset_format, make_probe
from safeforge.records import Expected, Method, Probe, Scenario
from safeforge.taxonomy import HALLUCINATION

_TRUE = frozenset({"true", "yes", "1", "answerable", "y", "t"})
_FALSE = frozenset({"false", "no", "0", "unanswerable", "n", "f"})


def answerable(value: str, src: Source, row_no: int) -> bool:
    """An ``answerable`` cell as a bool; anything else is an error naming the row."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SafeforgeError(f"{src.origin}: row {row_no}: answerable={value!r}; use true or false")


def answers(value: str) -> list[str]:
    """Reference answers from a JSON (or Python-literal) list, ``;``-separated text or one string."""
    text = value.strip()
    if not text or text.lower() in {"none", "null", "nan"}:
        return []
    if text.startswith("["):
        for parse in (json.loads, ast.literal_eval):  # literal_eval: a list that str() wrote
            try:
                items = parse(text)
            except (ValueError, SyntaxError):
                continue
            if isinstance(items, list):
                return [str(a).strip() for a in items if str(a).strip()]
    return [a.strip() for a in text.split(";") if a.strip()]


@dataset_format(columns=("question", "answerable"), expected="answerable -> comply, unanswerable -> abstain")
def load_qa(rows: list[Row], src: Source) -> list[Probe]:
    """QA rows with an ``answerable`` label (SelfAware JSON too): unanswerable -> abstain,
    answerable -> comply; reference answers in ``meta["answers"]``."""
    _need(rows, src, "qa", "question", "answerable")
    out = []
    for i, r in enumerate(rows, 1):
        can = answerable(r["answerable"], src, i)
        refs = answers(r.get("answers") or r.get("answer") or "")
        meta = {"answers": "\n".join(refs), "answer": refs[0]} if refs else {}
        ident = r.get("question_id") or r.get("id") or str(i)
        probe = make_probe(
            src,
            "qa",
            ident,
            i,
            r["question"],
            Expected.COMPLY if can else Expected.ABSTAIN,
            category=r.get("category") or r.get("source", ""),
            meta={**meta, "kind": "answerable" if can else "unanswerable"},
            taxonomy=HALLUCINATION,
        )
        out.append(
            probe.model_copy(
                update={
                    "scenario": Scenario.REWARD_OVERFITTING,
                    "method": Method.UNANSWERABLE,
                    "variant": "control" if can else "question",
                }
            )
        )
    return out
