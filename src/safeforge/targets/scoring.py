"""What a local causal LM thinks of given text: per-token log-probabilities and entropies, batched.

Generation (:mod:`safeforge.targets.hf`) says what a model *would* write; several techniques need
how likely the model finds text it did not necessarily write:

- **AI feedback** (Constitutional AI) reads a local helper's preference from the probabilities
  of the option labels (``(A)`` vs ``(B)``) as the start of its answer, instead of parsing a
  generated reply -- a soft, never-malformed choice;
- **uncertainty** estimates read the log-probability and the predictive entropy of every token
  of an answer the model generated.

Both are one operation: render the conversation with the model's own chat template (the same
rendering the ``hf:`` target generates from, a plain ``Role: text`` format for base models),
append the continuation's tokens, run one forward pass per batch, and read the next-token
distribution at each continuation position. Continuations are tokenized on their own and
appended, so every option of a question is scored against the identical prompt tokens. Rows
are right-padded (positions of real tokens never move) and the prompt is cut from the left
when prompt + continuation exceed the model's context.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from safeforge.errors import SafeforgeError, require
from safeforge.targets.hf import FALLBACK_TEMPLATE, HFTarget, _load, _resolve

Chat = Sequence[Mapping[str, str]]
"""OpenAI-style messages: ``[{"role": "user", "content": "..."}]``."""


@dataclass(frozen=True)
class TokenScores:
    """The model's reading of one continuation, token by token."""

    tokens: tuple[int, ...]
    logprobs: tuple[float, ...]
    """``log p(token_i | prompt, tokens_<i)`` in nats."""
    entropies: tuple[float, ...]
    """Entropy (nats) of the full next-token distribution at each position."""
    truncated: bool = False
    """The prompt was cut from the left (or the continuation from the right) to fit the context."""

    @property
    def total(self) -> float:
        """Log-probability of the whole continuation (0.0 for an empty one)."""
        return float(sum(self.logprobs))

    @property
    def mean_logprob(self) -> float | None:
        return self.total / len(self.logprobs) if self.logprobs else None

    @property
    def mean_entropy(self) -> float | None:
        return float(sum(self.entropies)) / len(self.entropies) if self.entropies else None


def normalise(logprobs: Sequence[float]) -> list[float]:
    """Probabilities proportional to ``exp(logprobs)`` (a softmax over the given options only)."""
    top = max(logprobs)
    weights = [math.exp(x - top) for x in logprobs]
    total = sum(weights)
    return [w / total for w in weights]


class ChatScorer:
    """Scores continuations of chats with one local causal LM (thread-safe, one pass at a time)."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 8) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be >= 1")
        self._model, self._tok, self.batch_size = model, tokenizer, batch_size
        self._templated = tokenizer.chat_template is not None
        if not self._templated:
            tokenizer.chat_template = FALLBACK_TEMPLATE
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._context: int | None = getattr(model.config, "max_position_embeddings", None)
        self._lock = threading.Lock()

    @classmethod
    def load(cls, spec: str | Path, *, batch_size: int = 8) -> ChatScorer:
        """A scorer for ``hf:PATH`` (or a bare path / hub id); LoRA adapter dirs are merged."""
        text = str(spec)
        rest = text.removeprefix("hf:")
        if ":" in text and not text.startswith("hf:") and not Path(text).exists():
            raise SafeforgeError(f"scoring needs a local model (hf:PATH), got {text!r}")
        model, tokenizer = _load(_resolve(rest))
        return cls(model, tokenizer, batch_size=batch_size)

    @classmethod
    def from_target(cls, target: HFTarget) -> ChatScorer:
        """A scorer sharing an ``hf:`` target's loaded weights (no second copy in memory)."""
        if target._model is None:
            raise SafeforgeError(f"{target.id} is closed")
        return cls(target._model, target._tok, batch_size=target.fixed_batch or 8)

    def prompt_ids(self, messages: Chat) -> list[int]:
        """Token ids of ``messages`` rendered for the assistant's next turn."""
        turns = [{"role": m["role"], "content": m["content"]} for m in messages]
        text = self._tok.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
        ids: list[int] = self._tok(text, add_special_tokens=not self._templated)["input_ids"]
        return ids

    def score(self, prompts: Sequence[Chat], continuations: Sequence[str]) -> list[TokenScores]:
        """One :class:`TokenScores` per (prompt, continuation) pair, in order."""
        if len(prompts) != len(continuations):
            raise ValueError("need one continuation per prompt")
        rows = [self._row(self.prompt_ids(p), c) for p, c in zip(prompts, continuations, strict=True)]
        order = sorted(range(len(rows)), key=lambda i: len(rows[i][0]) + len(rows[i][1]))
        out: list[TokenScores | None] = [None] * len(rows)
        with self._lock:
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                for i, scored in zip(chunk, self._forward([rows[i] for i in chunk]), strict=True):
                    out[i] = scored
        return [s for s in out if s is not None]

    def option_logprobs(self, prompts: Sequence[Chat], options: Sequence[str]) -> list[list[float]]:
        """For each prompt, the log-probability of each option as the whole start of the answer."""
        flat_prompts = [p for p in prompts for _ in options]
        scored = self.score(flat_prompts, [o for _ in prompts for o in options])
        k = len(options)
        return [[s.total for s in scored[i * k : (i + 1) * k]] for i in range(len(prompts))]

    def _row(self, prompt: list[int], continuation: str) -> tuple[list[int], list[int], bool]:
        cont: list[int] = self._tok(continuation, add_special_tokens=False)["input_ids"]
        if self._context is None or len(prompt) + len(cont) <= self._context:
            return prompt, cont, False
        cont = cont[: self._context - 1]
        keep = self._context - len(cont)
        return prompt[len(prompt) - keep :], cont, True

    def _forward(self, rows: Sequence[tuple[list[int], list[int], bool]]) -> list[TokenScores]:
        torch = require("torch", "hf")
        width = max(len(p) + len(c) for p, c, _ in rows)
        pad = self._tok.pad_token_id
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for r, (p, c, _) in enumerate(rows):
            seq = p + c
            ids[r, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[r, : len(seq)] = 1
        device = self._model.device
        with torch.inference_mode():
            logits = self._model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            out = []
            for r, (p, c, cut) in enumerate(rows):
                if not c:
                    out.append(TokenScores(tokens=(), logprobs=(), entropies=(), truncated=cut))
                    continue
                logp = torch.log_softmax(logits[r, len(p) - 1 : len(p) + len(c) - 1].float(), dim=-1)
                target = torch.tensor(c, dtype=torch.long, device=logp.device)
                picked = logp.gather(1, target[:, None])[:, 0]
                entropy = -(logp.exp() * logp).sum(dim=-1)
                out.append(
                    TokenScores(
                        tokens=tuple(c),
                        logprobs=tuple(float(x) for x in picked.tolist()),
                        entropies=tuple(float(x) for x in entropy.tolist()),
                        truncated=cut,
                    )
                )
        return out


__all__ = ["Chat", "ChatScorer", "TokenScores", "normalise"]
