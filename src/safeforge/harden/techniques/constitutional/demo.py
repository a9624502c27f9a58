"""Rows that would teach the built-in demo assistant to act as its own helper.

Not written yet: until the demo testbed (issue 9) lands its technique bench, ``demo_rows``
returns no rows, so on the demo the model itself is a helper that has never seen the
critique / revision / choice format (its replies read as malformed and are counted).
"""

from __future__ import annotations

from typing import Any

from safeforge.harden.techniques.constitutional.constitution import Constitution


def demo_rows(seed: int, constitution: Constitution) -> list[dict[str, Any]]:
    """No rows yet (see the module docstring)."""
    del seed, constitution
    return []
