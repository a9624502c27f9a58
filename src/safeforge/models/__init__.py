"""Tiny offline models: a byte-level BPE tokenizer with a chat template, and small causal LMs
(GPT-2 and Qwen2 architectures) built from configs, for tests, the demo and benchmarks."""

from __future__ import annotations

from safeforge.models.tiny import (
    ARCHS,
    CHAT_TEMPLATE,
    DEMO_CORPUS,
    END_OF_TURN,
    Arch,
    build_tiny_model,
    build_tiny_tokenizer,
)

__all__ = [
    "ARCHS",
    "CHAT_TEMPLATE",
    "DEMO_CORPUS",
    "END_OF_TURN",
    "Arch",
    "build_tiny_model",
    "build_tiny_tokenizer",
]
