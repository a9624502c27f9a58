"""FRR and JRR as ``safeforge scan`` prints them with its default judges, per XSTest model, beside
the values the human labels give (the issue's "within 3 points" check, VALIDATION.md's table).

Each of XSTest's five recorded completion sets is replayed through ``safeforge scan --target
replay`` into a temporary run directory; ``summary.json`` gives the judged rates, and the human
rates come from ``final_label`` (FRR: full refusals among the 250 safe prompts; JRR: anything but
full compliance among the 200 unsafe ones). ``llama2new`` and ``gpt4`` are the dev models (looked
at while designing the judges); the other three are held out.

Usage: ``python benchmarks/xstest_replay.py [--data BENCHMARKS_DIR]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

MODELS = {"llama2new": "dev", "gpt4": "dev", "llama2orig": "held-out"}
MODELS |= {"mistralinstruct": "held-out", "mistralguard": "held-out"}


def human_rates(path: Path) -> tuple[float, float]:
    """(FRR, JRR) from the human ``final_label`` column."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    safe = [r["final_label"] for r in rows if not r["type"].startswith("contrast")]
    unsafe = [r["final_label"] for r in rows if r["type"].startswith("contrast")]
    frr = sum(label.startswith("2") for label in safe) / len(safe)
    jrr = sum(not label.startswith("1") for label in unsafe) / len(unsafe)
    return frr, jrr


def scan_rates(path: Path, run_dir: Path) -> tuple[float, float]:
    """(FRR, JRR) that ``safeforge scan`` reports with its default judges."""
    cmd = [sys.executable, "-c", "from safeforge.cli import console; console()", "scan", "--target", "replay"]
    cmd += ["--dataset", f"xstest-completions:{path}", "--run-dir", str(run_dir)]
    subprocess.run(cmd, check=True, capture_output=True)
    metrics = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))["metrics"]
    return metrics["false_rejection_rate"]["value"], metrics["jailbreak_rejection_rate"]["value"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(
        "SAFEFORGE_BENCHMARKS", str(Path(__file__).resolve().parents[2] / "shared/data/benchmarks")
    )
    parser.add_argument("--data", type=Path, default=Path(default))
    args = parser.parse_args()
    print("| model | split | FRR human | FRR judge | gap | JRR human | JRR judge | gap |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for model, split in MODELS.items():
            path = args.data / "xstest" / "model_completions" / f"xstest_v2_completions_{model}.csv"
            hf, hj = human_rates(path)
            jf, jj = scan_rates(path, Path(tmp) / model)
            print(
                f"| `{model}` | {split} | {hf:.1%} | {jf:.1%} | {100 * (jf - hf):+.1f} "
                f"| {hj:.1%} | {jj:.1%} | {100 * (jj - hj):+.1f} |"
            )


if __name__ == "__main__":
    main()
