"""``hf:PATH_OR_HUB_ID`` — a local transformers causal LM, generating in batches.

The model is prompted through its own chat template (system turn included when the probe has
one), padded on the left so every row of a batch ends at the same position, and run under
``torch.inference_mode()`` in a worker thread, so the event loop keeps serving progress bars
and other targets while the CPU or GPU is busy. A directory that holds ``adapter_config.json``
is a LoRA adapter (what ``safeforge harden`` saves): its base model is loaded and the adapter
merged in for inference.

Batches: by default (``batch_size`` unset) the runner hands the target ``AUTO_CHUNK`` probes at
a time and the target cuts them, shortest first, into batches as large as a token budget
allows: ``rows × (longest prompt + max_new_tokens) ≤ token_budget``, at most ``MAX_BATCH`` rows.
On a GPU the budget is the KV cache the device can spare — ``KV_SHARE`` of its free memory —
divided by the cache's bytes per token (2 × layers × key/value heads × head size × bytes per
weight): small models get wide batches, large ones narrow. On CPU memory is rarely what limits
(the same rule allows hundreds of rows) but the time a step spends reading the cache is: there
the budget is at most ``CPU_TOKEN_BUDGET`` tokens. ``batch_size: N`` fixes the batch instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from safeforge.errors import SafeforgeError, require
from safeforge.records import Completion, Probe, Usage
from safeforge.targets._base import Generation, TargetOptions

log = logging.getLogger(__name__)

AUTO_CHUNK = 256
"""Probes per runner call when batches are sized automatically."""
MAX_BATCH = 256
"""Most rows in one automatically sized batch."""
KV_SHARE = 0.25
"""Share of free device memory the KV cache of one batch may take."""
CPU_MEMORY_FALLBACK = 4 << 30
"""Bytes assumed available when the OS does not say (non-Linux)."""
CPU_TOKEN_BUDGET = 4096
"""Most tokens in one batch on CPU. Measured with benchmarks/hf_generation.py's 6.6M-parameter
model on 2 cores: length-sorted batches of 2k-8k tokens ran 6.1-6.4 prompts/s, 16k 5.0, 32k 4.4
(one batch of all 256 prompts: 2.9)."""

FALLBACK_TEMPLATE = (
    "{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n"
    "{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}"
)
"""Used when the tokenizer has no chat template (a base model): plain ``Role: text`` lines."""


@dataclass(frozen=True)
class _Encoded:
    """One probe's prompt as token ids, with its position in the caller's list."""

    index: int
    ids: list[int]


def _is_local_spec(rest: str) -> bool:
    """A spec names a local directory when it exists or looks like a path, not ``org/name``."""
    return Path(rest).expanduser().exists() or rest.startswith(("/", ".", "~")) or rest.count("/") > 1


def _resolve(rest: str) -> str:
    """The string to hand ``from_pretrained``: an existing model dir, or a hub id as given."""
    if not rest:
        raise SafeforgeError("hf target needs a model: hf:PATH_TO_DIR or hf:ORG/NAME")
    if not _is_local_spec(rest):
        return rest
    path = Path(rest).expanduser()
    if not path.is_dir():
        raise SafeforgeError(f"hf model directory not found: {path}")
    if not (path / "config.json").is_file() and not (path / "adapter_config.json").is_file():
        raise SafeforgeError(f"{path} is not a transformers model directory (no config.json)")
    return str(path)


def _load(source: str) -> tuple[Any, Any]:
    """Load (model, tokenizer); a LoRA adapter dir is loaded onto its base and merged."""
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    cuda = torch.cuda.is_available()
    kwargs: dict[str, Any] = {"use_safetensors": True, "dtype": "auto" if cuda else torch.float32}
    adapter = Path(source, "adapter_config.json").is_file()
    try:
        if adapter:
            peft = require("peft", "train")
            base = peft.PeftConfig.from_pretrained(source).base_model_name_or_path
            model = transformers.AutoModelForCausalLM.from_pretrained(base, **kwargs)
            model = peft.PeftModel.from_pretrained(model, source).merge_and_unload()
            tok_source = source if Path(source, "tokenizer_config.json").is_file() else base
        else:
            model = transformers.AutoModelForCausalLM.from_pretrained(source, **kwargs)
            tok_source = source
        tokenizer = transformers.AutoTokenizer.from_pretrained(tok_source)
    except (OSError, ValueError) as exc:
        raise SafeforgeError(f"could not load hf model {source!r}: {exc}") from exc
    model.to("cuda" if cuda else "cpu").eval()
    return model, tokenizer


def kv_bytes_per_token(model: Any) -> int:
    """Bytes of KV cache one token takes in ``model`` (keys and values, every layer)."""
    config = model.config
    heads = config.num_attention_heads
    kv_heads = getattr(config, "num_key_value_heads", None) or heads  # GPT-2 has no GQA
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    itemsize = next(model.parameters()).element_size()
    return int(2 * config.num_hidden_layers * kv_heads * head_dim * itemsize)


def free_memory(device: Any) -> int:
    """Bytes free on ``device`` (CUDA: what the driver reports; CPU: available RAM)."""
    torch = require("torch", "hf")
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return CPU_MEMORY_FALLBACK


def token_budget(model: Any) -> int:
    """Tokens one automatically sized batch of ``model`` may hold (see the module doc)."""
    budget = max(1, int(KV_SHARE * free_memory(model.device)) // kv_bytes_per_token(model))
    return budget if model.device.type == "cuda" else min(budget, CPU_TOKEN_BUDGET)


class HFTarget:
    """A loaded causal LM answering probes in batches (sized automatically unless fixed)."""

    def __init__(self, *, spec: str, model: Any, tokenizer: Any, options: TargetOptions) -> None:
        self.id = f"hf:{spec}"
        self.fixed_batch = options.batch_size
        """The configured rows per forward pass, or ``None``: sized from ``token_budget``."""
        self.batch_size = options.batch_size or AUTO_CHUNK
        self.generation = options.generation
        self.token_budget = token_budget(model)
        """Most tokens (rows × padded length) one automatically sized batch may hold."""
        self._model = model
        self._tok = tokenizer
        self._lock = threading.Lock()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:  # common for hub base models (GPT-2): pad with eos
            tokenizer.pad_token = tokenizer.eos_token
        self.templated = tokenizer.chat_template is not None
        if not self.templated:
            log.warning("%s has no chat template; using a plain 'Role: text' prompt format", spec)
            tokenizer.chat_template = FALLBACK_TEMPLATE
        eos = model.generation_config.eos_token_id
        self._stop_ids = set(eos if isinstance(eos, list) else [eos]) - {None}
        if tokenizer.eos_token_id is not None:
            self._stop_ids.add(tokenizer.eos_token_id)
        # None for the few configs without a fixed context (then over-long prompts fail per batch)
        self._context: int | None = getattr(model.config, "max_position_embeddings", None)

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        """Answer ``probes`` in a worker thread (batches shortest first, see the module doc)."""
        return await asyncio.to_thread(self.generate, probes)

    async def aclose(self) -> None:
        """Drop the model so its memory (GPU memory included) can be freed."""
        self._model = None
        torch = require("torch", "hf")
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

    def generate(self, probes: Sequence[Probe]) -> list[Completion]:
        """Synchronous core of :meth:`generate_async`; one generation at a time per model."""
        if self._model is None:
            raise SafeforgeError(f"{self.id} is closed")
        results: list[Completion | None] = [None] * len(probes)
        encoded: list[_Encoded] = []
        for i, probe in enumerate(probes):
            ids = self._encode(probe)
            budget = None if self._context is None else self._context - self.generation.max_new_tokens
            if budget is not None and len(ids) > budget:
                results[i] = Completion(
                    error=f"prompt is {len(ids)} tokens; the model's context leaves room for {budget}"
                )
            else:
                encoded.append(_Encoded(i, ids))
        encoded.sort(key=lambda e: len(e.ids))  # similar lengths together: less padding
        with self._lock:
            for chunk in self._batches(encoded):
                seed_key = ",".join(probes[e.index].id for e in chunk)
                for e, completion in zip(chunk, self._run_batch(chunk, seed_key), strict=True):
                    results[e.index] = completion
        return [c if c is not None else Completion(error="not generated") for c in results]

    def _batches(self, encoded: Sequence[_Encoded]) -> list[list[_Encoded]]:
        """Consecutive runs of ``encoded`` (sorted by length): ``fixed_batch`` rows each, or as
        many as fit the token budget (each row padded to the batch's longest prompt)."""
        if self.fixed_batch is not None:
            return [list(encoded[i : i + self.fixed_batch]) for i in range(0, len(encoded), self.fixed_batch)]
        batches: list[list[_Encoded]] = []
        batch: list[_Encoded] = []
        for e in encoded:  # ascending length: each new row is the batch's longest
            rows_tokens = (len(batch) + 1) * (len(e.ids) + self.generation.max_new_tokens)
            if batch and (rows_tokens > self.token_budget or len(batch) == MAX_BATCH):
                batches.append(batch)
                batch = []
            batch.append(e)
        return [*batches, batch] if batch else batches

    def _encode(self, probe: Probe) -> list[int]:
        messages = [{"role": m.role, "content": m.content} for m in probe.messages]
        try:
            text = self._tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        except jinja2.TemplateError as exc:  # raised by templates that refuse a system turn
            if probe.system is None:
                raise SafeforgeError(f"{self.id}: chat template failed: {exc}") from exc
            text = self._tok.apply_chat_template(
                _fold_system(messages), tokenize=False, add_generation_prompt=True
            )
        ids: list[int] = self._tok(text, add_special_tokens=not self.templated)["input_ids"]
        return ids

    def _run_batch(self, chunk: Sequence[_Encoded], seed_key: str) -> list[Completion]:
        torch = require("torch", "hf")
        started = time.perf_counter()
        batch = self._tok.pad({"input_ids": [e.ids for e in chunk]}, return_tensors="pt")
        batch = {k: v.to(self._model.device) for k, v in batch.items()}
        gen = self.generation
        if gen.temperature > 0:  # sampling: reproducible per batch of probes, whatever the order
            torch.manual_seed((gen.seed or 0) + zlib.crc32(seed_key.encode()))
        try:
            with torch.inference_mode():
                out = self._model.generate(**batch, **_generate_kwargs(gen, self._tok.pad_token_id))
        except (RuntimeError, ValueError, IndexError) as exc:
            return [Completion(error=f"generation failed: {exc}") for _ in chunk]
        latency = time.perf_counter() - started
        prompt_len = batch["input_ids"].shape[1]
        return [
            self._completion(row[prompt_len:].tolist(), len(e.ids), latency)
            for e, row in zip(chunk, out, strict=True)
        ]

    def _completion(self, new_ids: list[int], prompt_tokens: int, latency: float) -> Completion:
        stop = next((i for i, t in enumerate(new_ids) if t in self._stop_ids), None)
        kept = new_ids if stop is None else new_ids[:stop]
        return Completion(
            text=self._tok.decode(kept, skip_special_tokens=True),
            finish_reason="length" if stop is None else "stop",
            usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=len(kept) + (stop is not None)),
            latency_s=latency,
        )


def _generate_kwargs(gen: Generation, pad_token_id: int) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"max_new_tokens": gen.max_new_tokens, "pad_token_id": pad_token_id}
    if gen.temperature > 0:
        kwargs.update(do_sample=True, temperature=gen.temperature, top_p=gen.top_p)
    else:
        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    return kwargs


def _fold_system(messages: list[dict[str, str]]) -> list[dict[str, str]]:
    """Put the system prompt in front of the first user turn, for templates without a system role."""
    system, rest = messages[0]["content"], [dict(m) for m in messages[1:]]
    for message in rest:
        if message["role"] == "user":
            message["content"] = f"{system}\n\n{message['content']}"
            break
    return rest


def hf(rest: str, options: TargetOptions) -> HFTarget:
    """Target factory for ``hf:PATH_OR_HUB_ID`` (needs ``pip install 'safeforge[hf]'``)."""
    require("torch", "hf")
    require("transformers", "hf")
    model, tokenizer = _load(_resolve(rest))
    return HFTarget(spec=rest, model=model, tokenizer=tokenizer, options=options)


__all__ = ["HFTarget", "hf"]
