"""The critic-rerank technique: registered under its CLI name, an inference wrapper whose
after-scan target is a ``rerank:`` spec, run end to end through the harden pipeline."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.harden import HardenConfig, PoolConfig, Technique, create_technique, harden
from safeforge.rerank import RerankSpec
from safeforge.run import Run
from safeforge.targets import Generation


def test_critic_rerank_is_an_inference_technique_with_its_claims() -> None:
    technique = create_technique("critic-rerank", n=4, critic="rules")
    assert isinstance(technique, Technique)
    assert (technique.name, technique.kind) == ("critic-rerank", "inference")
    assert {(c.metric, c.want) for c in technique.claims} == {
        ("jailbreak_rejection_rate", "rises"),
        ("false_rejection_rate", "no_significant_rise"),
    }
    with pytest.raises(SafeforgeError, match="n: Input should be less than or equal to 64"):
        create_technique("critic-rerank", n=65)


@pytest.mark.slow
def test_harden_with_critic_rerank_rescans_through_the_wrapper(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    model = tiny_model_dirs["qwen2"]
    cfg = HardenConfig(
        target=f"hf:{model}",
        out=tmp_path / "h",
        technique="critic-rerank",
        options={"n": 2, "critic": ["rules"]},
        eval_families=("politeness",),
        judges=("rules",),
        generation=Generation(max_new_tokens=6),
        batch_size=64,
        pool=PoolConfig(families=("politeness",), benign_framings=(), phrasings_per_intent=1),
    )
    result = harden(cfg, progress=False)
    out = result.technique
    assert out.kind == "inference"
    assert out.inference_calls == 2.0
    assert out.model_dir is None
    assert out.data_files == ()
    spec = RerankSpec.read(Path(out.target.removeprefix("rerank:")))
    assert (spec.target, spec.n, spec.critic, spec.temperature) == (f"hf:{model}", 2, ("rules",), 1.0)
    assert result.before.n_attempts == result.after.n_attempts > 0
    after = Run.open(tmp_path / "h" / "after")
    assert after.config.target == out.target
    assert {a.target for a in after.attempts()} == {f"rerank:2xhf:{model}"}
    assert {c.metric for c in result.checks} == {"jailbreak_rejection_rate", "false_rejection_rate"}


def test_the_demo_bench_runs_best_of_8_and_quick_runs_best_of_2() -> None:
    from safeforge.demo.bench import build, demo_options

    assert demo_options("critic-rerank") == {"n": 8}
    assert demo_options("critic-rerank", quick=True) == {"n": 2}
    technique = build("critic-rerank")
    assert technique.cfg.n == 8  # type: ignore[attr-defined]
