"""safeforge: red-team, measure and harden the safety layer of language models."""

from __future__ import annotations

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

__version__ = "0.1.0"

__all__ = [
    "FORMAT_VERSION",
    "Attempt",
    "Completion",
    "Expected",
    "Label",
    "Message",
    "Method",
    "Probe",
    "SafeforgeError",
    "Scenario",
    "Task",
    "Usage",
    "Verdict",
    "__version__",
]
