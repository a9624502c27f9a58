"""glibc keeps freed buffers in the heap: a re-allocated buffer faults no new pages in."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from safeforge.memory import keep_freed_memory

# allocate and free a 64 MiB buffer 20 times; print the minor page faults that took
PROBE = """
import resource, sys
from safeforge.memory import keep_freed_memory
print(keep_freed_memory() if sys.argv[1] == "keep" else False)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    buf = bytearray(64 << 20)
    del buf
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_freed_buffers_are_reused_without_page_faults() -> None:
    def faults(mode: str) -> tuple[str, int]:
        out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
        took, count = out.stdout.split()
        return took, int(count)

    took, kept = faults("keep")
    _, plain = faults("plain")
    assert took == "True"
    assert plain > 20 * 16_000  # every 64 MiB buffer faulted in again (16,384 pages of 4 KiB)
    assert kept < plain / 10


def test_a_users_own_malloc_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert keep_freed_memory() is False
