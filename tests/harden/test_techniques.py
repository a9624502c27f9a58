"""The technique registry: names users type, options validated by each technique's config."""

from __future__ import annotations

import pytest

from safeforge.errors import SafeforgeError
from safeforge.harden import TECHNIQUES, Technique, create_technique


def test_rejection_sampling_is_registered_under_its_cli_name() -> None:
    assert "rejection-sampling" in TECHNIQUES.names()
    technique = create_technique("rejection-sampling", k=3)
    assert isinstance(technique, Technique)
    assert technique.name == "rejection-sampling"
    assert technique.kind == "trained"
    assert {c.metric for c in technique.claims} >= {"jailbreak_rejection_rate", "false_rejection_rate"}


def test_a_bad_option_is_one_clear_error() -> None:
    with pytest.raises(SafeforgeError, match=r"technique 'rejection-sampling': bad option \(kk: Extra"):
        create_technique("rejection-sampling", kk=3)
    with pytest.raises(SafeforgeError, match="k: Input should be greater than or equal to 1"):
        create_technique("rejection-sampling", k=0)


def test_an_unknown_technique_gets_a_hint() -> None:
    with pytest.raises(SafeforgeError, match="did you mean rejection-sampling"):
        create_technique("rejection-samplng")
