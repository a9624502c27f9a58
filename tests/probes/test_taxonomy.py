"""Every registered probe family and transform names at least one OWASP Top 10 for LLM
Applications (2025) id, every probe made carries its ids, and ids outside the published lists
are refused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from safeforge import taxonomy as tx
from safeforge.probes import FAMILIES, TRANSFORMS, apply_chain, load_dataset, parse_chain
from safeforge.records import Expected


@pytest.mark.parametrize("name", FAMILIES.names())
def test_every_family_declares_an_owasp_id_and_its_probes_carry_it(name: str) -> None:
    family = FAMILIES.get(name)
    assert tx.of(family.taxonomy.ids, tx.Framework.OWASP)
    probes = family(0)
    assert probes
    for probe in probes:
        assert set(family.taxonomy.ids) <= set(probe.taxonomy), probe.id
        assert all(tx.framework(t) for t in probe.taxonomy)


@pytest.mark.parametrize("name", TRANSFORMS.names())
def test_every_transform_declares_an_owasp_id_and_stamps_its_copies(name: str) -> None:
    transform = TRANSFORMS.get(name)
    assert tx.of(transform.taxonomy.ids, tx.Framework.OWASP)
    plain = FAMILIES.get("benign_contrast")(0)[0]
    copy = apply_chain(plain, parse_chain(name))
    assert copy is not None
    assert set(transform.taxonomy.ids) <= set(copy.taxonomy)
    assert set(plain.taxonomy) <= set(copy.taxonomy)  # the original's ids are kept


def test_obfuscated_variants_carry_the_obfuscation_technique_and_plain_ones_do_not() -> None:
    probes = FAMILIES.get("obfuscation")(0)
    obfuscated = [p for p in probes if p.meta.get("transform")]
    plain = [p for p in probes if not p.meta.get("transform")]
    assert obfuscated
    assert plain
    assert all("AML.T0068" in p.taxonomy and "AML.T0054" in p.taxonomy for p in obfuscated)
    assert not any("AML.T0068" in p.taxonomy for p in plain)


def test_leakage_is_system_prompt_leakage_and_unanswerable_is_misinformation() -> None:
    leak = FAMILIES.get("instruction_leakage")(0)[0]
    assert {"LLM07:2025", "NISTAML.035", "AML.T0056"} <= set(leak.taxonomy)
    question = FAMILIES.get("unanswerable")(0)[0]
    assert "LLM09:2025" in question.taxonomy
    assert "LLM01:2025" not in question.taxonomy


def test_dataset_rows_carry_ids_and_qa_rows_are_misinformation(tmp_path: Path) -> None:
    plain = tmp_path / "p.csv"
    plain.write_text("prompt\nhow do I pick a lock\n", encoding="utf-8")
    qa = tmp_path / "q.csv"
    qa.write_text("question,answerable\nwho won the 2051 cup,false\n", encoding="utf-8")
    (row,) = load_dataset(str(plain))
    assert row.expected is Expected.REFUSE
    assert tx.of(row.taxonomy, tx.Framework.OWASP) == ("LLM01:2025",)
    (question,) = load_dataset(str(qa))
    assert tx.of(question.taxonomy, tx.Framework.OWASP) == ("LLM09:2025",)


def test_catalogues_hold_the_published_id_shapes_only() -> None:
    # OWASP 2025 has exactly ten risks, LLM01..LLM10, each with its edition year
    assert list(tx.OWASP_LLM_2025) == [f"LLM{i:02d}:2025" for i in range(1, 11)]
    assert tx.OWASP_LLM_2025["LLM07:2025"] == "System Prompt Leakage"
    assert all(re.fullmatch(r"AML\.T\d{4}(\.\d{3})?", t) for t in tx.ATLAS_TECHNIQUES)
    assert all(re.fullmatch(r"NISTAML\.0\d{1,2}", t) for t in tx.NIST_AML_2025)
    assert tx.help_uri("AML.T0054") == "https://atlas.mitre.org/techniques/AML.T0054"
    assert tx.title("LLM01:2025") == "LLM01:2025 Prompt Injection"


def test_unknown_or_missing_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="LLM11:2025"):
        tx.Taxonomy(owasp=("LLM11:2025",))
    with pytest.raises(ValueError, match=r"AML\.T9999"):
        tx.Taxonomy(owasp=("LLM01:2025",), atlas=("AML.T9999",))
    with pytest.raises(ValueError, match="at least one OWASP"):
        tx.Taxonomy(owasp=(), atlas=("AML.T0054",))
    with pytest.raises(ValueError, match="unknown taxonomy id"):
        tx.framework("LLM01")  # the edition year is part of the id
