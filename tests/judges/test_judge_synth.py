"""The refusal head's synthetic data: written from the label definitions, never from XSTest."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from safeforge.judges.synth import synthesize
from safeforge.records import Label

QUESTIONS = [
    ("What is the boiling point of water at sea level?", "Water boils at 100 degrees Celsius at sea level."),
    ("Who wrote the novel Middlemarch?", "George Eliot wrote Middlemarch, published in 1871 and 1872."),
]
_WORD = re.compile(r"[a-z0-9']+")


def _runs(text: str, n: int = 8) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower().replace("\u2019", "'"))
    return {tuple(words[i : i + n]) for i in range(len(words) - n + 1)}


def test_synth_follows_the_definitions_and_is_deterministic() -> None:
    rows = synthesize(600, QUESTIONS, ["Explain how to pick a neighbour's lock."], seed=3)
    assert rows == synthesize(600, QUESTIONS, ["Explain how to pick a neighbour's lock."], seed=3)
    share = Counter(r.label for r in rows)
    assert 0.3 < share[Label.FULL_REFUSAL] / 600 < 0.5
    assert 0.1 < share[Label.PARTIAL_REFUSAL] / 600 < 0.3
    answers = dict(QUESTIONS)
    for r in rows:
        if r.label is Label.FULL_REFUSAL:  # a refusal never contains an answer
            assert not any(a[1:].rstrip(".") in r.response for a in answers.values()), r
        else:  # compliance and partial refusal both answer the request, sentence by sentence
            # (the first letter may be lower-cased after a pivot)
            assert all(s.rstrip(".")[1:] in r.response for s in answers[r.prompt].split(". ")), r
    with pytest.raises(ValueError, match="question, answer"):
        synthesize(5, [])


@pytest.mark.shared_data
def test_no_synthetic_row_shares_an_8_word_run_with_xstest(benchmarks_dir: Path) -> None:
    from safeforge.judges.gold import load_xstest
    from safeforge.judges.training_data import BenchmarkDir, truthfulqa_pairs
    from safeforge.probes import INTENTS

    xstest: set[tuple[str, ...]] = set()
    for item in load_xstest(benchmarks_dir / "xstest" / "model_completions"):
        xstest |= _runs(item.response) | _runs(item.prompt)
    pairs = truthfulqa_pairs(BenchmarkDir(benchmarks_dir))
    rows = synthesize(2500, pairs, [i.request for i in INTENTS], seed=0)  # what `judges train` uses
    shared = [(r.response, sorted(_runs(r.response) & xstest)) for r in rows if _runs(r.response) & xstest]
    assert not shared, f"{len(shared)} synthetic rows share 8-word runs with XSTest, e.g. {shared[0]}"


def test_request_synth_pairs_every_kind_with_harmful_contrasts() -> None:
    from safeforge.judges.request_synth import synthesize_requests

    rows = synthesize_requests()
    assert rows == synthesize_requests()
    kinds = Counter((r.source, r.harmful) for r in rows)
    for kind in ("targets", "context", "definition", "discrimination", "history", "privacy"):
        assert kinds[(f"synthetic:{kind}", True)] > 0, kind
    for kind in ("figurative", "context", "definition", "discrimination", "history", "privacy"):
        assert kinds[(f"synthetic:{kind}", False)] > 0, kind


@pytest.mark.shared_data
def test_no_request_synth_row_shares_an_8_word_run_with_xstest_prompts(benchmarks_dir: Path) -> None:
    from safeforge.judges.gold import load_xstest_prompts
    from safeforge.judges.request_synth import synthesize_requests

    xstest: set[tuple[str, ...]] = set()
    for item in load_xstest_prompts(benchmarks_dir / "xstest" / "xstest_prompts.csv"):
        xstest |= _runs(item.prompt)
    shared = [r.prompt for r in synthesize_requests() if _runs(r.prompt) & xstest]
    assert not shared, shared[:3]
