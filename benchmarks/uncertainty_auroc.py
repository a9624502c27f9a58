"""Each uncertainty estimator's AUROC on held-out questions: the demo testbed's evaluation side,
or any labelled QA file.

    .venv/bin/python benchmarks/uncertainty_auroc.py [--target hf:DIR | openai:M --base-url URL] \\
        [--dataset qa:PATH] [--k 4] [--max-new-tokens 48] [--seed 0] [--out auroc.json]

Without ``--target`` it measures the demo assistant (built, or read from the cache); without
``--dataset`` the testbed's *held-out* questions: the evaluation side of the harden split of
``--seed`` (abstain-expected questions and their answerable twins that no technique trains on).
The model answers each question ``--k`` times at temperature 1 (the demo's scan settings); the
estimators of ``safeforge.judges.uncertainty`` read the samples; each row of the table is the
AUROC of the estimator's uncertainty for "this answer should have been an abstention" (and "is
wrong", where reference answers exist), with DeLong's 95 % interval and the class sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from safeforge.harden.pipeline import EVAL_FAMILIES, split_groups
from safeforge.harden.split import EVAL_FRACTION, split_intents
from safeforge.harden.techniques.uncertainty import auroc_lines
from safeforge.judges.uncertainty import default_embed, sample_async, score_questions, validate
from safeforge.probes import INTENTS, load_dataset, resolve_probes
from safeforge.records import Expected, Probe
from safeforge.targets import Generation, TargetOptions, create_target


def held_out_questions(seed: int) -> list[Probe]:
    """The evaluation side's questions, as ``safeforge harden`` (and the demo) split them."""
    probes = resolve_probes(families=EVAL_FAMILIES, seed=seed)
    split = split_intents(INTENTS, eval_fraction=EVAL_FRACTION, seed=seed, groups=split_groups(probes))
    return [p for p in split.select(probes, "eval") if p.family == "unanswerable"]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--target", default=None, help="target spec (default: the demo assistant)")
    parser.add_argument("--base-url", default=None, help="for openai: targets (key in $OPENAI_API_KEY)")
    parser.add_argument(
        "--dataset", default=None, help="labelled QA dataset spec (default: testbed eval side)"
    )
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    spec = args.target
    if spec is None:
        from safeforge.demo.model import build_demo_model

        spec = f"hf:{build_demo_model(log=print)}"
    if args.dataset:
        probes = [p for p in load_dataset(args.dataset) if p.expected in (Expected.ABSTAIN, Expected.COMPLY)]
    else:
        probes = held_out_questions(args.seed)
    where = args.dataset or f"testbed held-out questions (seed {args.seed})"
    generation = Generation(max_new_tokens=args.max_new_tokens, temperature=1.0, seed=args.seed)
    started = time.perf_counter()

    async def draw() -> list:  # type: ignore[type-arg]
        options = TargetOptions(base_url=args.base_url, batch_size=64, generation=generation)
        target = create_target(spec, options)
        try:
            return await sample_async(target, probes, args.k)
        finally:
            await target.aclose()

    samples = asyncio.run(draw())
    rows = validate(score_questions(probes, samples, default_embed()))
    wall = time.perf_counter() - started
    n_abstain = sum(p.expected == Expected.ABSTAIN for p in probes)
    print(f"{spec}: {n_abstain} abstain-expected + {len(probes) - n_abstain} answerable questions × {args.k}")
    for line in auroc_lines(rows, where):
        print(line)
    print(f"wall {wall:.0f} s (sampling, token scoring and embedding)")
    if args.out:
        data = {
            "target": spec,
            "where": where,
            "k": args.k,
            "wall_s": wall,
            "auroc": [r.model_dump() for r in rows],
        }
        args.out.write_text(json.dumps(data, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
