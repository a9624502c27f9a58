"""What the harm cross-encoder learns from, checked on the real files: the cross-dataset sets it
is reported on stay out of it, and its dev folds can group by question without collisions."""

from __future__ import annotations

from pathlib import Path

from safeforge.judges.gold import load_gold
from safeforge.judges.training_data import DNA_QUESTION_BASE, BenchmarkDir, harm_training_set
from safeforge.records import Label, Task


def test_the_harm_set_holds_gptfuzz_and_do_not_answer_and_no_validation_response(
    benchmarks_dir: Path,
) -> None:
    items = harm_training_set(BenchmarkDir(benchmarks_dir))
    fuzz = [i for i in items if int(i.meta["question"]) < DNA_QUESTION_BASE]
    dna = [i for i in items if int(i.meta["question"]) >= DNA_QUESTION_BASE]
    assert (len(fuzz), len(dna)) == (7700, 5634)
    # one id per distinct Do-Not-Answer question (6 models' responses each; one question is listed
    # twice upstream), none shared with GPTFuzz
    assert len({i.meta["question"] for i in dna}) == len({i.prompt for i in dna}) >= 930
    assert max(int(i.meta["question"]) for i in fuzz) < 100
    assert {Label.HARMFUL, Label.SAFE} == {i.label for i in dna} == {i.label for i in fuzz}
    trained = {i.response.strip() for i in items}
    jbb = load_gold(str(benchmarks_dir / "jbb-behaviors" / "judge-comparison.csv"), Task.HARM)
    xstest = load_gold(f"xstest:{benchmarks_dir / 'xstest' / 'model_completions'}", Task.REFUSAL)
    assert len(jbb) == 300
    assert len(xstest) == 2250
    shared = trained & {i.response.strip() for i in jbb + xstest}
    # only stock one-line refusals that ChatGPT/GPT-4 emit verbatim in several datasets
    # ("Sorry, but I can't assist with that."): no answer with content is in both
    assert len(shared) <= 3, shared
    assert all(len(t) < 300 for t in shared), shared
