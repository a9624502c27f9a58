"""``replay:[FORMAT:]FILE`` — answers from recorded transcripts, so logged conversations and
published model completions are scored offline with the same judges and metrics as a live scan.

FILE is read by the probe loaders (``safeforge.probes.load_dataset``), so every format they know
works: a generic CSV/JSONL with ``prompt`` and ``response`` columns, or a completion set such as
``xstest-completions:``, ``jbb-judge:`` or ``dna-completions:``. Probes are matched by id first
(one prompt may have been recorded under several system prompts), then by prompt text.
``replay`` with no file answers each probe from its own recorded ``meta["response"]`` (the
probes came from a completion set). A probe with no recorded answer becomes an error attempt,
never a guess; a file (or a bare-replay dataset) with no recorded answers at all is an error
naming the columns it has, raised before anything is stored.
"""

from __future__ import annotations

from collections.abc import Sequence

from safeforge.errors import SafeforgeError
from safeforge.records import Completion, Probe
from safeforge.targets._base import TargetOptions


class ReplayTarget:
    """Looks each probe up in the transcript (by id, then by prompt text)."""

    batch_size = 64

    def __init__(self, spec: str) -> None:
        from safeforge.probes import load_dataset

        self.id = f"replay:{spec}" if spec else "replay"
        self._by_id: dict[str, str] = {}
        self._by_prompt: dict[str, str] = {}
        self._checked = False
        if not spec:
            return
        recorded = [p for p in load_dataset(spec) if "response" in p.meta]
        if not recorded:
            raise _no_response_column(spec)
        for probe in recorded:
            # ids as loaded ("log:a") and as written in the file ("a")
            self._by_id.setdefault(probe.id, probe.meta["response"])
            self._by_id.setdefault(probe.id.partition(":")[2], probe.meta["response"])
            self._by_prompt.setdefault(probe.prompt.strip(), probe.meta["response"])

    async def generate_async(self, probes: Sequence[Probe]) -> list[Completion]:
        if not self._checked:
            # bare ``replay`` on a dataset without recordings: say so before anything is stored
            # (the first batch is answered before the first commit), not as N error attempts
            self._checked = True
            if not self._by_id and probes and not any("response" in p.meta for p in probes):
                raise _no_response_column(probes[0].meta.get("source", ""))
        out = []
        for probe in probes:
            text = self._by_id.get(probe.id)
            if text is None:
                text = self._by_prompt.get(probe.prompt.strip(), probe.meta.get("response"))
            if text is None:
                out.append(Completion(error="replay: no recorded response for this prompt"))
            else:
                out.append(Completion(text=text, finish_reason="recorded"))
        return out

    async def aclose(self) -> None:
        return None


def _no_response_column(spec: str) -> SafeforgeError:
    """'FILE has no response column (columns: ...)', with the fix."""
    from safeforge.probes.loaders import columns_of

    try:
        found = ", ".join(columns_of(spec)) or "none" if spec else "unknown"
    except SafeforgeError:
        found = "unreadable"
    return SafeforgeError(
        f"replay: {spec or 'the probes'} has no recorded responses: no 'response' column "
        f"(columns: {found}); add one, or map yours with ?response=COLUMN"
    )


def replay(rest: str, options: TargetOptions) -> ReplayTarget:
    """Factory for ``replay:[FORMAT:]FILE`` (or bare ``replay``: each probe's own recording)."""
    return ReplayTarget(rest)
