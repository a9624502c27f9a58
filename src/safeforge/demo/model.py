"""Build (once) and cache the demo assistant: tokenizer + tiny GPT-2 + plain SFT from scratch.

The corpus is the seed policy's chats plus every registered technique's ``demo_rows`` (formats
a technique needs the model to know, such as a critique/revision turn).
Nothing is downloaded: the tokenizer is trained on the demo corpus, the model is built from a
config (``safeforge.models``), and TRL's SFT trains it on the corpus (``safeforge.harden.train``
with LoRA off). The result lives in ``$SAFEFORGE_CACHE/demo-model/<fingerprint>`` (default
``~/.cache/safeforge``); the fingerprint covers the corpus version and every setting below, so a
changed recipe builds a fresh model instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from safeforge.demo.bench import all_demo_rows
from safeforge.demo.corpus import CORPUS_VERSION, corpus_rows, tokenizer_texts
from safeforge.harden.train import TrainConfig, train_sft
from safeforge.logs import route_library_logs
from safeforge.models import build_tiny_model, build_tiny_tokenizer

MARKER = "demo_model.json"


class DemoModelConfig(BaseModel):
    """The demo assistant's recipe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    vocab_size: int = 3000
    hidden_size: int = 128
    num_layers: int = 2
    num_heads: int = 4
    max_positions: int = 512
    corpus_seeds: tuple[int, ...] = (0, 1)
    steps: int = Field(default=220, ge=1)
    batch_size: int = 32
    learning_rate: float = 3e-3
    max_length: int = 384
    seed: int = 0

    def fingerprint(self) -> str:
        """Covers the recipe and the training chats themselves (the corpus, with every
        technique's ``demo_rows``): a changed probe library, split rule, seed policy or
        technique format builds a fresh model instead of reusing one trained on other chats."""
        chats = hashlib.sha256(json.dumps(training_rows(self), sort_keys=True).encode()).hexdigest()
        data = {"corpus": CORPUS_VERSION, "chats": chats, **self.model_dump(mode="json")}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


@lru_cache(maxsize=4)
def _rows(cfg: DemoModelConfig) -> tuple[str, ...]:
    rows = [*corpus_rows(cfg.corpus_seeds, split_seed=cfg.seed), *all_demo_rows(cfg.seed)]
    random.Random(cfg.seed).shuffle(rows)
    return tuple(json.dumps(r, sort_keys=True) for r in rows)


def training_rows(cfg: DemoModelConfig) -> list[dict[str, Any]]:
    """The chats the demo assistant of ``cfg`` is trained on, in training order (built once per
    process: composing the corpus resolves every probe family)."""
    return [json.loads(r) for r in _rows(cfg)]


def cache_root() -> Path:
    """``$SAFEFORGE_CACHE`` or ``~/.cache/safeforge``."""
    env = os.environ.get("SAFEFORGE_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "safeforge"


def demo_model_dir(cfg: DemoModelConfig | None = None, root: Path | None = None) -> Path:
    cfg = cfg or DemoModelConfig()
    return (root or cache_root()) / "demo-model" / cfg.fingerprint()


def build_demo_model(
    cfg: DemoModelConfig | None = None, *, root: Path | None = None, log: object = print
) -> Path:
    """The trained demo assistant's directory (an ``hf:`` target), built on first use."""
    cfg = cfg or DemoModelConfig()
    final = demo_model_dir(cfg, root)
    if (final / MARKER).is_file():
        return final
    started = time.perf_counter()
    work = final.with_name(final.name + ".building")
    shutil.rmtree(work, ignore_errors=True)
    rows = training_rows(cfg)
    tok = build_tiny_tokenizer(tokenizer_texts(rows), work / "tokenizer", vocab_size=cfg.vocab_size)
    init = build_tiny_model(
        "gpt2",
        tok,
        work / "init",
        hidden_size=cfg.hidden_size,
        num_layers=cfg.num_layers,
        num_heads=cfg.num_heads,
        max_positions=cfg.max_positions,
        seed=cfg.seed,
    )
    train_cfg = TrainConfig(
        lora=False,
        learning_rate=cfg.learning_rate,
        max_steps=cfg.steps,
        batch_size=cfg.batch_size,
        max_length=cfg.max_length,
        seed=cfg.seed,
        logging_steps=max(1, cfg.steps // 5),
    )
    if callable(log):
        log(f"training the demo assistant: {len(rows)} chats, {cfg.steps} SFT steps (cached afterwards)")
    trained = train_sft(init, rows, work / "sft", train_cfg, source="safeforge demo corpus (synthetic)")
    shutil.rmtree(final, ignore_errors=True)
    shutil.copytree(trained, final)
    shutil.copy(work / "sft" / "data_card.json", final / "training_card.json")
    meta = {
        "recipe": cfg.model_dump(mode="json"),
        "chats": len(rows),
        "build_s": time.perf_counter() - started,
    }
    (final / MARKER).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    route_library_logs()  # hold library logs again: else the next one recreates work/sft/train.log
    shutil.rmtree(work, ignore_errors=True)
    return final
