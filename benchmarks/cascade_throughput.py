"""The default cascade's throughput on the XSTest mix (responses per second), small and quick.

All 2,250 XSTest completions (5 models x 450 prompts, about half answers, half full or partial
refusals), judged by a fresh ``cascade`` each round after a warm-up that loads its encoders and
heads; best of ``--rounds``, with the rules alone timed in the same rounds as the baseline (on a
shared machine the ratio says more than the absolute rate). Prints JSON: rates, the share each
stage settled, and how many responses needed the request head (the request-aware step).

Usage: ``python benchmarks/cascade_throughput.py [--data BENCHMARKS_DIR] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path

from safeforge.judges import create_judge
from safeforge.judges.evaluate import gold_attempts
from safeforge.judges.gold import load_xstest
from safeforge.judges.rules import classify_refusal


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(
        "SAFEFORGE_BENCHMARKS", str(Path(__file__).resolve().parents[2] / "shared/data/benchmarks")
    )
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    attempts = gold_attempts(load_xstest(args.data / "xstest" / "model_completions"))
    texts = [a.response or "" for a in attempts]
    judge = create_judge("cascade")
    asyncio.run(judge.judge_async(attempts[:64]))  # load encoders and heads once
    best = {"cascade": 0.0, "rules": 0.0}
    for _ in range(args.rounds):
        judge.stats = {"rules": 0, "embed": 0, "llm": 0}  # type: ignore[attr-defined]
        classify_refusal.cache_clear()  # each round reads every response anew, as a scan does
        start = time.perf_counter()
        verdicts = asyncio.run(judge.judge_async(attempts))
        best["cascade"] = max(best["cascade"], len(attempts) / (time.perf_counter() - start))
        classify_refusal.cache_clear()
        start = time.perf_counter()
        for t in texts:
            classify_refusal(t)
        best["rules"] = max(best["rules"], len(texts) / (time.perf_counter() - start))
    stats = judge.stats  # type: ignore[attr-defined]
    request_aware = sum(1 for v in verdicts if "request (p=" in (v.rationale or ""))
    out = {
        "n": len(attempts),
        "cascade_per_s": round(best["cascade"], 1),
        "rules_per_s": round(best["rules"], 1),
        "cascade_vs_rules": round(best["cascade"] / best["rules"], 3),
        "settled_by_rules": round(stats["rules"] / len(attempts), 3),
        "settled_by_embed": round(stats["embed"] / len(attempts), 3),
        "relabelled_by_request_head": request_aware,
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
