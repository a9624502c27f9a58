"""safeforge: red-team, measure and harden the safety layer of language models."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from safeforge.errors import SafeforgeError
from safeforge.records import (
    FORMAT_VERSION,
    Attempt,
    Completion,
    Expected,
    Label,
    Message,
    Method,
    Probe,
    Scenario,
    Task,
    Usage,
    Verdict,
)

if TYPE_CHECKING:
    from safeforge.run import Run, ScanConfig, scan

__version__ = "0.1.0"

_LAZY = {"scan": "safeforge.run", "ScanConfig": "safeforge.run", "Run": "safeforge.run"}


def __getattr__(name: str) -> Any:
    """Load the scan API on first use, keeping ``import safeforge`` light."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'safeforge' has no attribute {name!r}")


__all__ = [
    "FORMAT_VERSION",
    "Attempt",
    "Completion",
    "Expected",
    "Label",
    "Message",
    "Method",
    "Probe",
    "Run",
    "SafeforgeError",
    "ScanConfig",
    "Scenario",
    "Task",
    "Usage",
    "Verdict",
    "__version__",
    "scan",
]
