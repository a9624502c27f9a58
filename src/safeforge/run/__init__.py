"""Scans: configuration, the resumable run store, the async runner, judging and export."""

from __future__ import annotations

from safeforge.run.config import ScanConfig, redact_url
from safeforge.run.export import ExportFormat, export_run, flat_rows
from safeforge.run.judging import judge_run, judge_run_async
from safeforge.run.result import Run
from safeforge.run.runner import scan, scan_async
from safeforge.run.store import STORE_NAME, Store

__all__ = [
    "STORE_NAME",
    "ExportFormat",
    "Run",
    "ScanConfig",
    "Store",
    "export_run",
    "flat_rows",
    "judge_run",
    "judge_run_async",
    "redact_url",
    "scan",
    "scan_async",
]
