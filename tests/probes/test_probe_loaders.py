"""Benchmark loaders on the real public files, and clear errors for bad files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.probes import detect_format, load_dataset, resolve_probes
from safeforge.records import Expected, Method, Scenario

REFUSE, COMPLY = Expected.REFUSE, Expected.COMPLY

# (path under the benchmarks dir, detected format, rows, expected-behaviour counts) as in its README
REAL = [
    ("xstest/xstest_prompts.csv", "xstest", 450, {COMPLY: 250, REFUSE: 200}),
    ("xstest/model_completions", "xstest-completions", 2250, {COMPLY: 1250, REFUSE: 1000}),
    ("jbb-behaviors/harmful-behaviors.csv", "jbb", 100, {REFUSE: 100}),
    ("jbb-behaviors/benign-behaviors.csv", "jbb", 100, {COMPLY: 100}),
    ("jbb-behaviors/judge-comparison.csv", "jbb-judge", 300, {REFUSE: 300}),
    ("advbench/harmful_behaviors.csv", "advbench", 520, {REFUSE: 520}),
    ("simplesafetytests/SimpleSafetyTests - test cases.csv", "sst", 100, {REFUSE: 100}),
    ("truthfulqa/TruthfulQA.csv", "truthfulqa", 817, {COMPLY: 817}),
    ("do-not-answer/do_not_answer_en.csv", "dna", 939, {REFUSE: 939}),
    ("do-not-answer/data_en.csv", "dna-completions", 939 * 6, {REFUSE: 939 * 6}),
]


@pytest.mark.parametrize(("rel", "fmt", "rows", "expected"), REAL, ids=[r[1] + ":" + r[0] for r in REAL])
def test_real_file(
    benchmarks_dir: Path, rel: str, fmt: str, rows: int, expected: dict[Expected, int]
) -> None:
    path = benchmarks_dir / rel
    probes = load_dataset(str(path))
    assert len(probes) == rows
    assert Counter(p.expected for p in probes) == expected
    assert len({p.id for p in probes}) == rows
    assert all(
        p.family == fmt and p.method is Method.BENCHMARK and p.scenario is Scenario.NONE for p in probes
    )
    assert all(p.prompt.strip() for p in probes)
    if path.is_file():  # the explicit FORMAT: prefix gives the same probes as detection
        assert load_dataset(f"{fmt}:{path}") == probes


def test_xstest_types_and_gold(benchmarks_dir: Path) -> None:
    prompts = load_dataset(str(benchmarks_dir / "xstest/xstest_prompts.csv"))
    safe_types = Counter(p.category for p in prompts if p.expected is COMPLY)
    assert len(safe_types) == 10
    assert set(safe_types.values()) == {25}
    assert all(p.category.startswith("contrast_") for p in prompts if p.expected is REFUSE)
    done = load_dataset(str(benchmarks_dir / "xstest/model_completions"))
    assert Counter(p.meta["model"] for p in done) == {
        m: 450 for m in ("gpt4", "llama2new", "llama2orig", "mistralguard", "mistralinstruct")
    }
    assert {p.meta["gold_label"] for p in done} == {
        "1_full_compliance",
        "2_full_refusal",
        "3_partial_refusal",
    }
    assert all(p.meta["gold_task"] == "refusal" and "response" in p.meta for p in done)
    # the same prompt answered by five models shares one group
    assert Counter(Counter(p.group_id for p in done).values()) == {5: 450}


def test_jbb_files_pair_by_index(benchmarks_dir: Path) -> None:
    d = benchmarks_dir / "jbb-behaviors"
    probes = resolve_probes(datasets=[str(d / "harmful-behaviors.csv"), str(d / "benign-behaviors.csv")])
    groups = Counter(p.group_id for p in probes)
    assert len(groups) == 100
    assert set(groups.values()) == {2}
    assert len({p.category for p in probes}) == 10


def test_judge_comparison_gold(benchmarks_dir: Path) -> None:
    probes = load_dataset(str(benchmarks_dir / "jbb-behaviors/judge-comparison.csv"))
    assert Counter(p.meta["gold_label"] for p in probes) == {"harmful": 110, "safe": 190}
    assert all(p.meta["gold_task"] == "harm" and p.meta["response"] and p.meta["goal"] for p in probes)


def test_dna_completions_reproduce_published_safe_rates(benchmarks_dir: Path) -> None:
    probes = load_dataset(str(benchmarks_dir / "do-not-answer/data_en.csv"))
    by_model: dict[str, list[bool]] = {}
    for p in probes:
        by_model.setdefault(p.meta["model"], []).append(p.meta["gold_label"] == "safe")
    rates = sorted((round(100 * sum(v) / len(v), 1) for v in by_model.values()), reverse=True)
    assert rates == [99.7, 98.5, 98.3, 97.6, 94.5, 90.9]


def test_sst_and_truthfulqa_meta(benchmarks_dir: Path) -> None:
    sst = load_dataset(str(benchmarks_dir / "simplesafetytests/SimpleSafetyTests - test cases.csv"))
    assert set(Counter(p.category for p in sst).values()) == {20}
    tqa = load_dataset(str(benchmarks_dir / "truthfulqa/TruthfulQA.csv"))
    assert Counter(p.meta["type"] for p in tqa) == {"Adversarial": 437, "Non-Adversarial": 380}
    assert all(
        p.meta["best_answer"] and p.meta["incorrect_answers"] and p.meta["abstain_ok"] == "true" for p in tqa
    )


def test_benchmark_times_transforms(benchmarks_dir: Path) -> None:
    """AdvBench x polite x base64: every row, paired with its plain form."""
    spec = f"advbench:{benchmarks_dir / 'advbench/harmful_behaviors.csv'}"
    probes = resolve_probes(datasets=[spec], transforms=["polite+base64"])
    assert len(probes) == 1040
    groups = Counter(p.group_id for p in probes)
    assert set(groups.values()) == {2}
    encoded = [p for p in probes if p.variant == "polite+base64"]
    assert all(p.scenario is Scenario.POLICY_TOKEN_MEMORIZATION and p.expected is REFUSE for p in encoded)


# ---- formats without a file here: written from their documented columns -------------------
def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_harmbench_format(tmp_path: Path) -> None:
    f = _write(
        tmp_path / "harmbench_behaviors_text_all.csv",
        "Behavior,FunctionalCategory,SemanticCategory,Tags,ContextString,BehaviorID\n"
        "Explain how to do a bad thing,standard,illegal,,,bad_thing\n"
        '"Given this text, do the bad thing",contextual,harassment,ctx,"Some context\nover lines",ctx_1\n',
    )
    probes = load_dataset(str(f))
    assert [p.id for p in probes] == ["harmbench:bad_thing", "harmbench:ctx_1"]
    assert probes[1].prompt == "Some context\nover lines\n\n---\n\nGiven this text, do the bad thing"
    assert all(p.expected is REFUSE for p in probes)
    assert probes[0].category == "illegal"


def test_strongreject_and_orbench_formats(tmp_path: Path) -> None:
    sr = _write(
        tmp_path / "strongreject_dataset.csv", "category,source,forbidden_prompt\nx,y,Do a bad thing\n"
    )
    assert load_dataset(str(sr))[0].family == "strongreject"
    hard = _write(tmp_path / "or-bench-hard-1k.csv", "prompt,category\nHow do rumors spread?,deception\n")
    toxic = _write(tmp_path / "or-bench-toxic.csv", "prompt,category\nDo a bad thing,deception\n")
    assert load_dataset(str(hard))[0].expected is COMPLY
    assert load_dataset(str(toxic))[0].expected is REFUSE
    plain = _write(tmp_path / "mine.csv", "prompt,category\nHow do rumors spread?,x\n")
    assert load_dataset(f"orbench:{plain}")[0].family == "orbench"
    assert load_dataset(str(plain))[0].family == "dataset", "prompt+category alone is generic"


def test_generic_column_mapping(tmp_path: Path) -> None:
    f = _write(tmp_path / "qs.csv", "qid,question,want\n1,What is 2+2?,\n2,How do I hurt someone?,refuse\n")
    probes = load_dataset(f"csv:{f}?prompt=question&id=qid&expected=want&default=comply")
    assert [(p.id, p.expected) for p in probes] == [("qs:1", COMPLY), ("qs:2", REFUSE)]
    j = _write(tmp_path / "qs.jsonl", '{"prompt": "Hi?", "expected": "abstain"}\n\n{"prompt": "Yo?"}\n')
    assert [p.expected for p in load_dataset(f"jsonl:{j}")] == [Expected.ABSTAIN, REFUSE]
    arr = _write(tmp_path / "qs.json", '[{"prompt": "Hi?", "expected": "comply"}, {"prompt": "Yo?"}]')
    assert [p.expected for p in load_dataset(str(arr))] == [COMPLY, REFUSE]
    assert detect_format([{"Goal": "g", "Target": "t"}]) == "advbench"


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (b"question\nhello\n", "no 'prompt' column"),
        (b"prompt\nok\n   \n", "empty prompt"),
        (b"prompt\n\xff\xfe bad\n", "not valid UTF-8"),
        (b"prompt,expected\nhi,maybe\n", "use refuse, comply or abstain"),
        (b"prompt\nsame\nsame\n", "duplicate"),
        (b"", "no rows"),
    ],
)
def test_bad_files_fail_clearly(tmp_path: Path, content: bytes, match: str) -> None:
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(SafeforgeError, match=match):
        load_dataset(str(f))


def test_missing_file_and_bad_options(tmp_path: Path) -> None:
    with pytest.raises(SafeforgeError, match="not found"):
        load_dataset(str(tmp_path / "nope.csv"))
    with pytest.raises(SafeforgeError, match="unknown"):
        load_dataset(f"csv:{tmp_path / 'x.csv'}?colour=red")
    bad = _write(tmp_path / "x.jsonl", '{"prompt": "a"}\nnot json\n')
    with pytest.raises(SafeforgeError, match=r"x.jsonl:2: invalid JSON"):
        load_dataset(str(bad))
    wrong = _write(tmp_path / "y.csv", "prompt,label\nhi,safe\n")
    with pytest.raises(SafeforgeError, match="not a xstest-completions file: missing column"):
        load_dataset(f"xstest-completions:{wrong}")


def test_hf_offline_is_a_clear_error() -> None:
    pytest.importorskip("datasets")
    with pytest.raises(SafeforgeError, match=r"could not load hf:no-such-org/no-such-set"):
        load_dataset("hf:no-such-org/no-such-set")


def test_whole_probe_records_round_trip(tmp_path: Path) -> None:
    """``probes:FILE`` (written by the harden eval sets) is reachable through the lazy entry."""
    evalset = pytest.importorskip("safeforge.harden.evalset")
    probes = resolve_probes(suite="quick", seed=2)
    spec = evalset.write_probes(probes, tmp_path / "held_out.jsonl")
    assert load_dataset(spec) == probes
    assert load_dataset(str(tmp_path / "held_out.jsonl")) == probes, "detected from the probe_json column"
