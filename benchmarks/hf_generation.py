"""Local generation speed: ``safeforge scan --target hf:`` against raw batched ``model.generate``
on the same model, prompts and token count, measured in the same run.

    .venv/bin/python benchmarks/hf_generation.py [--n 256] [--new-tokens 32] [--rounds 2]

The model is a config-built Qwen2-style causal LM (about 6.7M parameters, random weights, the
project's tiny tokenizer and chat template), loaded once; **model load is excluded** from every
figure. The prompts are ``--n`` probes of the default suite, rendered with the chat template.

- raw ``generate``: the templated prompts in left-padded batches of ``--raw-batch`` (32), in
  suite order, greedy, ``max_new_tokens`` = ``--new-tokens``, then decoded — the hand-written
  loop a user would compare with;
- raw at safeforge's batches: the same, but with the very batches the hf target chose (sorted
  by length, sized from its token budget): what safeforge's own overhead costs;
- safeforge: ``scan`` with the hf target at its **default settings** (no ``batch_size``: sized
  automatically), no judges and no report (generation and the run store only), timed from the
  call to its return.

Rates are prompts per second. The rounds are interleaved; the best of each is compared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from safeforge.models import DEMO_CORPUS, build_tiny_model, build_tiny_tokenizer
from safeforge.probes import resolve_probes
from safeforge.records import Probe
from safeforge.run import ScanConfig, scan
from safeforge.targets import TARGETS, Generation, TargetOptions
from safeforge.targets.hf import HFTarget, _load


def build_model(root: Path) -> Path:
    """A Qwen2-style model of about 6.7M parameters (hidden 256, 11 layers)."""
    tokenizer = build_tiny_tokenizer(DEMO_CORPUS, root / "tokenizer")
    return build_tiny_model("qwen2", tokenizer, root / "model", hidden_size=256, num_layers=11, num_heads=4)


def templated(tokenizer: Any, probes: list[Probe]) -> list[str]:
    chats = [[{"role": m.role, "content": m.content} for m in p.messages] for p in probes]
    return [tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in chats]


def raw_generate(model: Any, tokenizer: Any, batches: list[list[str]], new_tokens: int) -> float:
    """Seconds to generate and decode every batch (left-padded, greedy)."""
    start = time.perf_counter()
    for texts in batches:
        enc = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=new_tokens,
                do_sample=False,
                temperature=None,
                top_p=None,
                top_k=None,
                pad_token_id=tokenizer.pad_token_id,
            )
        tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    return time.perf_counter() - start


def chosen_batches(target: HFTarget, probes: list[Probe], texts: list[str]) -> list[list[str]]:
    """The batches the hf target forms for ``probes`` (in runner hand-off chunks)."""
    out = []
    for start in range(0, len(probes), target.batch_size):
        chunk = probes[start : start + target.batch_size]
        encoded = sorted(
            (_Enc(i, target._encode(p)) for i, p in enumerate(chunk, start)), key=lambda e: len(e.ids)
        )
        out += [[texts[e.index] for e in batch] for batch in target._batches(encoded)]
    return out


class _Enc:
    def __init__(self, index: int, ids: list[int]) -> None:
        self.index, self.ids = index, ids


def main() -> None:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--n", type=int, default=256, help="prompts")
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--raw-batch", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="sf-hf-bench-"))
    try:
        model_dir = build_model(root)
        model, tokenizer = _load(str(model_dir))  # what the hf target loads; excluded from timing
        params = sum(p.numel() for p in model.parameters())
        probes = resolve_probes(suite="default", limit=args.n, seed=0)
        gen = Generation(max_new_tokens=args.new_tokens)

        def factory(rest: str, options: TargetOptions) -> HFTarget:  # the loaded model, reused
            return HFTarget(spec=str(model_dir), model=model, tokenizer=tokenizer, options=options)

        TARGETS.register(factory, "hfbench")
        target = factory("", TargetOptions(generation=gen))
        texts = templated(tokenizer, probes)
        raw_batches = [texts[i : i + args.raw_batch] for i in range(0, len(texts), args.raw_batch)]
        own_batches = chosen_batches(target, probes, texts)
        raw_generate(model, tokenizer, raw_batches[:1], args.new_tokens)  # warm-up
        raw, raw_own, ours = [], [], []
        for r in range(args.rounds):
            raw.append(args.n / raw_generate(model, tokenizer, raw_batches, args.new_tokens))
            raw_own.append(args.n / raw_generate(model, tokenizer, own_batches, args.new_tokens))
            config = ScanConfig(
                target="hfbench:x", suite="default", limit=args.n, seed=0, generation=gen, judges=[],
                report=False, run_dir=root / f"run{r}",
            )  # fmt: skip
            start = time.perf_counter()
            run = scan(config, progress=False)
            ours.append(args.n / (time.perf_counter() - start))
            assert run.counts()[0] == args.n
    finally:
        shutil.rmtree(root, ignore_errors=True)

    sizes = sorted({len(b) for b in own_batches})
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average: {load} ({os.cpu_count()} CPUs), torch threads {torch.get_num_threads()}")
    print(
        f"model: Qwen2-style, {params / 1e6:.1f}M parameters, {model.device}; {args.n} prompts of the "
        f"default suite, {args.new_tokens} new tokens, greedy; model load excluded"
    )
    shape = f"{len(own_batches)} batches of {sizes[0]}-{sizes[-1]}, token budget {target.token_budget:,}"
    print(f"  raw generate, batches of {args.raw_batch}:     {max(raw):7.1f} prompts/s  ({_fmt(raw)})")
    print(f"  raw generate, safeforge's batches: {max(raw_own):7.1f} prompts/s  ({_fmt(raw_own)}; {shape})")
    print(f"  safeforge scan, default settings:  {max(ours):7.1f} prompts/s  ({_fmt(ours)})")
    print(f"  ratio safeforge / raw (batches of {args.raw_batch}): {max(ours) / max(raw):.2f}x")
    print(f"  ratio safeforge / raw (same batches): {max(ours) / max(raw_own):.2f}x")


def _fmt(values: list[float]) -> str:
    return ", ".join(f"{v:.1f}" for v in values)


if __name__ == "__main__":
    main()
