"""Judge throughput per stage and for the default cascade (responses per second).

Mix: real model responses, the XSTest ``model_completions`` (5 models x 450 prompts, about half
compliance, half full/partial refusal). Stages:

* ``rules``: the keyword/structure rules on every response;
* ``encoder torch plain``: the reference PyTorch path (batch 32, every batch padded to 128
  tokens, input order) -- the baseline the issue measured at ~72/s on 2 cores;
* ``encoder_onnx_l6_128``: int8 ONNX, all 6 layers, 128 tokens, length-sorted (the first
  shipped build, kept for comparison);
* ``encoder_torch``, ``encoder_onnx_fp32``, ``encoder_onnx`` (int8, the default backend): the
  shipped encoder settings (token cap and layer count read from the shipped heads) with
  length-sorted batches. Encoder stages run interleaved, best of ``--rounds``, so background
  load on a shared machine hits them alike;
* ``cascade``: rules, then the int8 encoder + head only where the rules are unsure, on two
  mixes: all 2,250 XSTest completions and JailbreakBench's 300 judged jailbreak responses;
* ``request_harm`` (prompts only), ``embed_harm`` (the harm cross-encoder, one pass per pair) and the
  ``critic`` (request + refusal + harm + tone) on the same mixes.

Usage: ``python benchmarks/judge_throughput.py [--data BENCHMARKS_DIR] [--n 512] [--threads 2]``.
Timings on a shared machine are noisy: the baseline runs in the same process, same settings.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from safeforge.judges import create_judge
from safeforge.judges.encoder import Encoder, head_encoder, model_dir
from safeforge.judges.evaluate import gold_attempts
from safeforge.judges.gold import GoldItem, load_jbb, load_xstest
from safeforge.judges.heads import load_heads
from safeforge.judges.rules import classify_refusal

Runner = Callable[[list[str]], Any]


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def plain_torch_runner(threads: int) -> Runner:
    """The reference path: HF tokenizer padding to 128, batch 32, input order, mean pooling."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    torch.set_num_threads(threads)
    tok = AutoTokenizer.from_pretrained(str(model_dir()))
    model = AutoModel.from_pretrained(str(model_dir())).eval()

    def run(texts: list[str]) -> None:
        with torch.inference_mode():
            for i in range(0, len(texts), 32):
                batch = tok(
                    texts[i : i + 32],
                    padding="max_length",
                    truncation=True,
                    max_length=128,
                    return_tensors="pt",
                )
                hidden = model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1)
                _ = (hidden * mask).sum(1) / mask.sum(1)

    return run


def best_rates(
    runners: dict[str, Callable[[list[str]], Any]], texts: list[str], rounds: int
) -> dict[str, float]:
    """Best-of-``rounds`` rate per stage, stages interleaved so background load hits all alike."""
    best = dict.fromkeys(runners, 0.0)
    for _ in range(rounds):
        for name, run in runners.items():
            start = time.perf_counter()
            run(texts)
            best[name] = max(best[name], _rate(len(texts), time.perf_counter() - start))
    return best


def _mixes(data: Path, xstest: list[GoldItem]) -> dict[str, list[GoldItem]]:
    """Response mixes for the cascade: XSTest (refusal-heavy, many borderline answers) and the
    JailbreakBench judged responses (what a jailbreak scan of real models sends back)."""
    return {"xstest": xstest, "jbb": load_jbb(data / "jbb-behaviors" / "judge-comparison.csv")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.environ.get(
        "SAFEFORGE_BENCHMARKS", str(Path(__file__).resolve().parents[2] / "shared/data/benchmarks")
    )
    parser.add_argument("--data", type=Path, default=Path(default))
    parser.add_argument("--n", type=int, default=512, help="responses for each encoder stage")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="best-of-N rounds per encoder stage")
    args = parser.parse_args()
    items = load_xstest(args.data / "xstest" / "model_completions")
    texts = [i.response for i in items]
    rng = np.random.default_rng(0)
    sample = [texts[i] for i in rng.permutation(len(texts))[: args.n]]
    results: dict[str, float] = {}

    elapsed = 0.0
    for _ in range(5):
        classify_refusal.cache_clear()  # time the rules, not their cache (a scan reads each text anew)
        start = time.perf_counter()
        unsure = sum(1 for t in texts if not classify_refusal(t).sure)
        elapsed += time.perf_counter() - start
    results["rules"] = _rate(5 * len(texts), elapsed)
    results["rules_unsure_share"] = unsure / len(texts)

    refusal_encoder = head_encoder(load_heads()[1], "refusal")
    shipped = {"max_tokens": refusal_encoder.max_tokens, "layers": refusal_encoder.layers}
    results.update({f"shipped_{k}": float(v) for k, v in shipped.items()})
    encoders = {
        b: Encoder(backend=b, threads=args.threads, **shipped) for b in ("torch", "onnx-fp32", "onnx")
    }
    full = Encoder(backend="onnx", threads=args.threads, max_tokens=128, layers=6)
    for enc in [*encoders.values(), full]:
        enc.encode(sample[:8])  # warm-up
    runners: dict[str, Runner] = {"encoder_torch_plain": plain_torch_runner(args.threads)}
    runners["encoder_onnx_l6_128"] = full.encode
    runners.update({f"encoder_{b.replace('-', '_')}": enc.encode for b, enc in encoders.items()})
    results.update(best_rates(runners, sample, args.rounds))
    ref, fp32, int8 = (encoders[b].encode(sample) for b in ("torch", "onnx-fp32", "onnx"))
    results["int8_vs_torch_cosine_mean"] = float((ref * int8).sum(1).mean())
    results["fp32_vs_torch_cosine_min"] = float((ref * fp32).sum(1).min())

    judges = {name: create_judge(name) for name in ("cascade", "request_harm", "embed?task=harm", "critic")}
    for name, judge in judges.items():
        asyncio.run(judge.judge_async(gold_attempts(items[:16])))  # load encoders and heads once
        for mix, mix_items in _mixes(args.data, items).items():
            attempts = gold_attempts(mix_items)
            classify_refusal.cache_clear()
            start = time.perf_counter()
            asyncio.run(judge.judge_async(attempts))
            key = name.replace("?task=", "_")
            results[f"{key}_{mix}"] = _rate(len(attempts), time.perf_counter() - start)
    cascade = judges["cascade"]
    for mix, mix_items in _mixes(args.data, items).items():
        cascade.stats = {"rules": 0, "embed": 0, "llm": 0}  # type: ignore[attr-defined]
        asyncio.run(cascade.judge_async(gold_attempts(mix_items)))
        results[f"cascade_{mix}_settled_by_rules"] = cascade.stats["rules"] / len(mix_items)  # type: ignore[attr-defined]
    results["speedup_int8_vs_plain_torch"] = results["encoder_onnx"] / results["encoder_torch_plain"]
    results["speedup_l6_128_int8_vs_plain_torch"] = (
        results["encoder_onnx_l6_128"] / results["encoder_torch_plain"]
    )
    print(json.dumps({k: round(v, 3) for k, v in results.items()}, indent=2))


if __name__ == "__main__":
    main()
