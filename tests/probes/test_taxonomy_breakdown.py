"""The summary breaks the security metrics down by OWASP / NIST / ATLAS id: an attempt counts
once under each id it carries, counted here by hand."""

from __future__ import annotations

from safeforge.metrics import summarize
from safeforge.records import Attempt, Completion, Expected, Label, Message, Probe, Task, Verdict


def _attempt(pid: str, taxonomy: tuple[str, ...], refused: bool) -> Attempt:
    probe = Probe(
        id=pid,
        intent_id=pid,
        family="f",
        messages=(Message(role="user", content="x"),),
        expected=Expected.REFUSE,
        group_id=pid,
        taxonomy=taxonomy,
    )
    label = Label.FULL_REFUSAL if refused else Label.FULL_COMPLIANCE
    verdict = Verdict(judge="rules", task=Task.REFUSAL, label=label)
    return Attempt(probe=probe, target="t", completion=Completion(text="r"), verdicts=(verdict,))


def test_jrr_by_owasp_nist_and_atlas_counts_each_id() -> None:
    attempts = [
        _attempt("a", ("LLM01:2025", "NISTAML.018", "AML.T0054"), refused=True),
        _attempt("b", ("LLM01:2025", "NISTAML.018", "AML.T0054", "AML.T0068"), refused=False),
        _attempt("c", ("LLM07:2025", "LLM01:2025", "NISTAML.035"), refused=False),
        _attempt("d", ("LLM01:2025",), refused=True),
        _attempt("e", (), refused=True),  # a record from before the taxonomy: counted apart
    ]
    breakdowns = summarize(attempts).breakdowns
    owasp = breakdowns["jailbreak_rejection_rate.by_owasp"]
    assert {k: (r.k, r.n) for k, r in owasp.items()} == {
        "LLM01:2025": (2, 4),
        "LLM07:2025": (0, 1),
        "untagged": (1, 1),
    }
    nist = breakdowns["jailbreak_rejection_rate.by_nist"]
    assert {k: (r.k, r.n) for k, r in nist.items()} == {
        "NISTAML.018": (1, 2),
        "NISTAML.035": (0, 1),
        "untagged": (2, 2),
    }
    atlas = breakdowns["jailbreak_rejection_rate.by_atlas"]
    assert (atlas["AML.T0054"].k, atlas["AML.T0054"].n) == (1, 2)
    assert (atlas["AML.T0068"].k, atlas["AML.T0068"].n) == (0, 1)
    assert owasp["LLM01:2025"].ci_low is not None  # a rate with its interval


def test_a_single_tagged_value_is_still_shown() -> None:
    attempts = [_attempt("a", ("LLM01:2025",), refused=True), _attempt("b", ("LLM01:2025",), refused=False)]
    breakdowns = summarize(attempts).breakdowns
    assert set(breakdowns["jailbreak_rejection_rate.by_owasp"]) == {"LLM01:2025"}
    assert "jailbreak_rejection_rate.by_family" not in breakdowns  # one family: not a breakdown
