"""Apply transforms (obfuscations and framings) to any probe, benchmark rows included.

A transform spec is one transform name or a ``+``-joined chain applied left to right
(``polite+base64``: polite framing, then base64 of the framed text). The new probe keeps the
original's ``intent_id``, ``group_id`` and ``expected`` -- so it is paired with the plain form
in the metrics -- and records the chain in ``variant`` and ``meta["transform"]``. Its scenario
and method are the chain's: any obfuscation in it makes it policy-token memorization /
obfuscation; a chain of framings takes its last framing's (e.g. ``polite`` -> polite jailbreak
/ differential prompts). Recorded responses and gold labels are dropped from the copy: they
belong to the original prompt, not to the rewritten one. The copy keeps the original's
taxonomy ids and gains each transform's.
"""

from __future__ import annotations

from collections.abc import Sequence

from safeforge.errors import SafeforgeError
from safeforge.probes._spec import TRANSFORMS, Transform, TransformKind
from safeforge.records import Method, Probe, Scenario
from safeforge.taxonomy import merge

_RECORDED = ("response", "gold_label", "gold_task")


def parse_chain(spec: str) -> list[Transform]:
    """``"a+b"`` -> the registered transforms (unknown names give a did-you-mean error)."""
    names = [n.strip() for n in spec.split("+") if n.strip()]
    if not names:
        raise SafeforgeError(f"empty transform spec {spec!r}")
    return [TRANSFORMS.get(n) for n in names]


def _kind(chain: Sequence[Transform]) -> tuple[Scenario, Method]:
    for t in chain:
        if t.kind is TransformKind.OBFUSCATION:
            return Scenario.POLICY_TOKEN_MEMORIZATION, Method.OBFUSCATION
    return chain[-1].scenario, chain[-1].method


def apply_chain(probe: Probe, chain: Sequence[Transform], seed: int = 0) -> Probe | None:
    """The probe with its last user turn rewritten by ``chain`` (None if it has no user turn)."""
    idx = max((i for i, m in enumerate(probe.messages) if m.role == "user"), default=None)
    if idx is None:
        return None
    text = probe.messages[idx].content
    for t in chain[:-1]:
        text = t(text, seed=seed)
    turns = chain[-1].messages(text, seed=seed)
    name = "+".join(t.name for t in chain)
    scenario, method = _kind(chain)
    meta = {k: v for k, v in probe.meta.items() if k not in _RECORDED}
    meta |= {"transform": name, "base_probe": probe.id}
    return probe.model_copy(
        update={
            "id": f"{probe.id}~{name}",
            "messages": probe.messages[:idx] + turns + probe.messages[idx + 1 :],
            "variant": name if probe.variant == "plain" else f"{probe.variant}+{name}",
            "scenario": scenario,
            "method": method,
            "meta": meta,
            "taxonomy": merge(probe.taxonomy, *(t.taxonomy.ids for t in chain)),
        }
    )


def apply_transforms(probes: Sequence[Probe], specs: Sequence[str], seed: int = 0) -> list[Probe]:
    """The original probes followed by every probe under every transform spec."""
    chains = [parse_chain(s) for s in specs]
    out = list(probes)
    for chain in chains:
        out += [p for p in (apply_chain(p, chain, seed) for p in probes) if p is not None]
    return out
