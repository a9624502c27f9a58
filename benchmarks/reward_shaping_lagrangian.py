"""Reward shaping on the demo testbed: fixed weights vs the harm cost under a Lagrangian.

Both variants start from the same demo model, draw from the same train-side pool within the
demo budget (``safeforge.demo.bench``) and are scanned on the same held-out probes, compared
with one shared before-scan, under both refusal judges. Prints the technique table (95 % CIs,
paired tests against the base model), the cost table and each variant's λ path and alarm, and
writes everything to ``OUT/results.json``::

    .venv/bin/python benchmarks/reward_shaping_lagrangian.py --out runs/rs-lagrangian

Takes about as long as two ``safeforge demo --technique reward-shaping`` runs (one before-scan);
a second call with the same ``--out`` reuses what the first finished (scans resume, a finished
technique is not retrained).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from safeforge.demo.bench import demo_options
from safeforge.demo.model import build_demo_model
from safeforge.demo.run import _limit_threads, _quiet_library_bars, demo_config
from safeforge.demo.table import BASE, bench_rows, bench_tables, cost_table, distinct_share
from safeforge.harden.pipeline import Stages, baseline, prepare, run_technique
from safeforge.harden.techniques import create_technique
from safeforge.report.outputs import open_run

VARIANTS = {"fixed weights": False, "lagrangian": True}


def _summary(run: Any) -> dict[str, Any]:
    card = run.output.data_card
    rewards = card["training"]["rewards"]
    lag = rewards.get("lagrangian") or {}
    return {
        "checks": [c.model_dump(mode="json") for c in run.checks],
        "constraint": card.get("constraint"),
        "base_cost": card.get("base_cost"),
        "lambda_path": lag.get("lambda_path"),
        "cost_path": lag.get("cost_path"),
        "alarm_fired": card.get("alarm_fired"),
        "alarm_reasons": rewards.get("alarm", {}).get("reasons"),
        "generations": card.get("generations"),
        "data_s": run.output.data_s,
        "train_s": run.output.train_s,
        "wall_s": run.wall_s,
        "after": run.after.model_dump(mode="json"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/rs-lagrangian"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    console = Console(stderr=True)
    _limit_threads()
    _quiet_library_bars()
    started = time.perf_counter()
    model = build_demo_model(log=lambda m: console.print(f"model {m}"))
    cfg = demo_config(args.out, model, technique="reward-shaping", seed=args.seed)
    stages = Stages(console, 1 + 3 * len(VARIANTS))
    split, pool, spec, n_eval = prepare(cfg)
    before = baseline(cfg, spec, n_eval, stages=stages)
    runs, distinct = {}, {BASE: distinct_share(before.attempts())}
    for name, lagrangian in VARIANTS.items():
        technique = create_technique(
            "reward-shaping", **{**demo_options("reward-shaping"), "lagrangian": lagrangian}
        )
        work = args.out / name.replace(" ", "-")
        runs[name] = run_technique(
            cfg, technique, split, pool, spec, before, work, stages=stages, console=console
        )
        distinct[name] = distinct_share(open_run(work / "after").attempts())
    rows = bench_rows(runs, distinct)
    out = Console()
    for table in bench_tables(rows):
        out.print(table)
    out.print(cost_table(rows))
    results = {name: _summary(run) for name, run in runs.items()}
    for name, r in results.items():
        lam = r["lambda_path"]
        path = f"λ {lam[0]:.2f} → {lam[-1]:.2f} (max {max(lam):.2f})" if lam else "fixed harm weight"
        out.print(f"{name}: {path}; alarm fired: {r['alarm_fired']}; generations {r['generations']}")
    wall = time.perf_counter() - started
    payload = {
        "wall_s": round(wall, 1),
        "before": next(iter(runs.values())).comparison.a.model_dump(mode="json"),
        "variants": results,
    }
    (args.out / "results.json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    out.print(f"wall time {wall:.0f}s · {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
