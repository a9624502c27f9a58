"""Shared vocabularies for findings: OWASP, NIST and MITRE ATLAS identifiers on every probe.

Red teamers report in three vocabularies, and a safeforge finding carries all three where one
applies (``Probe.taxonomy``, stamped when the probe is made, so every attempt, summary row and
exported finding has them):

* the **OWASP Top 10 for LLM Applications (2025)** risk ids (``LLM01:2025`` ...): every probe
  family, transform and attack method names at least one;
* the **NIST AI 100-2 E2025** (Adversarial Machine Learning: A Taxonomy and Terminology of
  Attacks and Mitigations, March 2025) index: the attack class (``NISTAML.018``, direct
  prompting) and the attacker objective it serves (``NISTAML.04``, misuse enablement);
* **MITRE ATLAS** technique ids (``AML.T0054`` ...).

Only ids checked against the published lists are catalogued here; :class:`Taxonomy` refuses
any other, so a typo fails at import. The mapping follows the sources' own words: OWASP files
jailbreaking under LLM01 ("a form of prompt injection"), NIST files jailbreaks and system-prompt
extraction under direct prompting attacks (NISTAML.018), ATLAS has one technique per move
(jailbreak, system-prompt extraction, prompt obfuscation). A plain harmful request (a benchmark
row, the harmful half of a contrast pair) crafts nothing, so it carries the risk (LLM01) and the
objective (NISTAML.04) but no ATLAS technique; unanswerable questions probe hallucination, which
OWASP lists as LLM09 Misinformation and no NIST attack class covers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property


class Framework(StrEnum):
    OWASP = "owasp"
    NIST = "nist"
    ATLAS = "atlas"


OWASP_LLM_2025: dict[str, str] = {
    "LLM01:2025": "Prompt Injection",
    "LLM02:2025": "Sensitive Information Disclosure",
    "LLM03:2025": "Supply Chain",
    "LLM04:2025": "Data and Model Poisoning",
    "LLM05:2025": "Improper Output Handling",
    "LLM06:2025": "Excessive Agency",
    "LLM07:2025": "System Prompt Leakage",
    "LLM08:2025": "Vector and Embedding Weaknesses",
    "LLM09:2025": "Misinformation",
    "LLM10:2025": "Unbounded Consumption",
}
NIST_AML_2025: dict[str, str] = {
    "NISTAML.01": "Availability Violation (attacker objective)",
    "NISTAML.02": "Integrity Violation (attacker objective)",
    "NISTAML.03": "Privacy Compromise (attacker objective)",
    "NISTAML.04": "Misuse Enablement (attacker objective, GenAI)",
    "NISTAML.015": "Indirect Prompt Injection",
    "NISTAML.018": "Prompt Injection (direct prompting attacks)",
    "NISTAML.027": "Misaligned Outputs",
    "NISTAML.035": "Prompt Extraction",
    "NISTAML.036": "Leaking Information from User Interactions",
    "NISTAML.038": "Data Extraction",
}
ATLAS_TECHNIQUES: dict[str, str] = {
    "AML.T0051": "LLM Prompt Injection",
    "AML.T0051.000": "LLM Prompt Injection: Direct",
    "AML.T0054": "LLM Jailbreak",
    "AML.T0056": "Extract LLM System Prompt",
    "AML.T0062": "Discover LLM Hallucinations",
    "AML.T0068": "LLM Prompt Obfuscation",
}
CATALOGUES: dict[Framework, dict[str, str]] = {
    Framework.OWASP: OWASP_LLM_2025,
    Framework.NIST: NIST_AML_2025,
    Framework.ATLAS: ATLAS_TECHNIQUES,
}
SOURCES: dict[Framework, tuple[str, str]] = {
    Framework.OWASP: ("OWASP Top 10 for LLM Applications 2025", "https://genai.owasp.org/llm-top-10/"),
    Framework.NIST: ("NIST AI 100-2 E2025", "https://csrc.nist.gov/pubs/ai/100/2/e2025/final"),
    Framework.ATLAS: ("MITRE ATLAS", "https://atlas.mitre.org/techniques/"),
}


def framework(tag: str) -> Framework:
    """Which vocabulary an id belongs to (``ValueError`` for an id none of them has)."""
    for name, catalogue in CATALOGUES.items():
        if tag in catalogue:
            return name
    raise ValueError(f"unknown taxonomy id {tag!r}")


def title(tag: str) -> str:
    """``LLM01:2025 Prompt Injection``: an id with its name, as reports show it."""
    return f"{tag} {CATALOGUES[framework(tag)][tag]}"


def help_uri(tag: str) -> str:
    """Where the id is defined (ATLAS has a page per technique; OWASP and NIST one document)."""
    kind = framework(tag)
    base = SOURCES[kind][1]
    return f"{base}{tag}" if kind is Framework.ATLAS else base


def merge(*groups: Iterable[str]) -> tuple[str, ...]:
    """The ids of every group, in order, each once."""
    return tuple(dict.fromkeys(tag for group in groups for tag in group))


def of(tags: Iterable[str], kind: Framework) -> tuple[str, ...]:
    """The ids among ``tags`` from one vocabulary (unknown ids are skipped: old stores)."""
    return tuple(t for t in tags if t in CATALOGUES[kind])


@dataclass(frozen=True)
class Taxonomy:
    """The ids a probe family, transform or attack method declares, checked against the lists."""

    owasp: tuple[str, ...]
    nist: tuple[str, ...] = ()
    atlas: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for kind, tags in (
            (Framework.OWASP, self.owasp),
            (Framework.NIST, self.nist),
            (Framework.ATLAS, self.atlas),
        ):
            unknown = [t for t in tags if t not in CATALOGUES[kind]]
            if unknown:
                raise ValueError(f"not {SOURCES[kind][0]} ids (or not catalogued): {', '.join(unknown)}")
        if not self.owasp:
            raise ValueError("a taxonomy needs at least one OWASP Top 10 for LLM Applications id")

    @cached_property
    def ids(self) -> tuple[str, ...]:
        """Every id, OWASP first (computed once: each probe a loader makes reads it)."""
        return merge(self.owasp, self.nist, self.atlas)

    def __add__(self, other: Taxonomy) -> Taxonomy:
        return Taxonomy(
            merge(self.owasp, other.owasp), merge(self.nist, other.nist), merge(self.atlas, other.atlas)
        )


DIRECT_REQUEST = Taxonomy(owasp=("LLM01:2025",), nist=("NISTAML.04",))
"""A plain harmful request: the safety control it tests, nothing crafted to get past it."""
JAILBREAK = Taxonomy(owasp=("LLM01:2025",), nist=("NISTAML.018", "NISTAML.04"), atlas=("AML.T0054",))
"""A request reworded or wrapped to get past the refusal (framings, attacker-driven attacks)."""
OBFUSCATED = JAILBREAK + Taxonomy(owasp=("LLM01:2025",), atlas=("AML.T0068",))
"""A request whose surface tokens are hidden (encodings, homoglyphs, splitting)."""
PROMPT_EXTRACTION = Taxonomy(
    owasp=("LLM07:2025", "LLM01:2025"),
    nist=("NISTAML.018", "NISTAML.035", "NISTAML.03"),
    atlas=("AML.T0056", "AML.T0051.000"),
)
"""Instructions that try to make the model reveal its system prompt."""
HALLUCINATION = Taxonomy(owasp=("LLM09:2025",), atlas=("AML.T0062",))
"""Questions nobody can answer confidently: a confident answer is a hallucination."""
