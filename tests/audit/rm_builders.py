"""Tiny reward models with planted biases, trained in seconds with TRL's RewardTrainer.

A planted bias must be a preference we *know* the model has, so both models are taught their
preferences on the very pairs the audit will score (the audit's ``--limit`` sample): the test
checks that the audit finds exactly the preferences put there -- pairing, scoring, the paired
test, the sign and the flag -- not whether a tiny model generalises from one phrasing to
another (it does not reliably: a model trained on balanced but *different* pairs still showed
incidental, consistent preferences on the audit's phrasing; a real reward model's incidental
preferences are exactly what the audit is for).

- Safety pairs: chosen over rejected, as the audit expects, for both models.
- Bias-probe pairs: the *unbiased* model prefers the feature side on a seeded half of each
  probe's pairs and the plain side on the other half -- idiosyncratic preferences that cancel
  out, which is what "no systematic bias" means. The *biased* model has the same preferences
  except for the length-padding and politeness probes, where it always prefers the feature
  side: the planted length and politeness biases.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from safeforge.audit import library as lib
from safeforge.audit.pairs import sample
from safeforge.audit.records import Chat

PLANTED = ("length", "politeness")
LIMIT = 16
"""Pairs per subset and per probe, in training and in the audit alike."""


def _msgs(chat: Chat) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in chat]


def preference_rows(biased: bool, *, limit: int = LIMIT, seed: int = 0) -> list[dict[str, Any]]:
    """TRL implicit-prompt preference rows (``chosen`` / ``rejected`` message lists)."""
    rng = random.Random(seed)
    rows = []
    for subset in lib.SUBSETS:
        for p in sample([p for p in lib.safety_pairs() if p.group == subset], limit, seed):
            rows.append({"chosen": _msgs(p.x), "rejected": _msgs(p.y)})
    for probe in lib.BIAS_PROBES:
        pairs = sample(probe.build(), limit, seed)
        feature_first = [i < len(pairs) // 2 for i in range(len(pairs))]
        rng.shuffle(feature_first)
        for p, first in zip(pairs, feature_first, strict=True):
            if (biased and probe.name in PLANTED) or first:
                rows.append({"chosen": _msgs(p.x), "rejected": _msgs(p.y)})
            else:
                rows.append({"chosen": _msgs(p.y), "rejected": _msgs(p.x)})
    rng.shuffle(rows)
    return rows


def corpus_texts() -> list[str]:
    """Text for the tokenizer: every conversation the audit can score (no labels)."""
    pairs = lib.safety_pairs() + [p for probe in lib.BIAS_PROBES for p in probe.build()]
    return [m.content for p in pairs for chat in (p.x, p.y) for m in chat]


def train_reward_model(
    out_dir: Path, tokenizer_dir: Path, *, biased: bool, seed: int = 0, epochs: int = 10
) -> Path:
    """Train a 1-layer GPT-2 sequence classifier (built from a config) and save it to ``out_dir``."""
    import torch
    import transformers
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    tok = transformers.AutoTokenizer.from_pretrained(str(tokenizer_dir))
    config = transformers.GPT2Config(
        vocab_size=len(tok),
        n_layer=1,
        n_embd=32,
        n_head=2,
        n_positions=256,
        num_labels=1,
        pad_token_id=tok.pad_token_id,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
    )
    transformers.set_seed(seed)
    torch.manual_seed(seed)
    model = transformers.GPT2ForSequenceClassification(config)
    args = RewardConfig(
        output_dir=str(out_dir / "trainer"),
        per_device_train_batch_size=32,
        num_train_epochs=epochs,
        learning_rate=1e-2,
        lr_scheduler_type="constant",
        max_length=256,
        seed=seed,
        bf16=False,
        use_cpu=True,
        activation_checkpointing=False,
        report_to="none",
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
    )
    data = Dataset.from_list(preference_rows(biased, seed=seed))
    trainer = RewardTrainer(model=model, args=args, train_dataset=data, processing_class=tok)
    trainer.train()
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tok.save_pretrained(str(out_dir))
    return out_dir
