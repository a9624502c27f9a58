"""plan_probes: the streamed probes are resolve_probes' probes in the same order; a big plan is
read again from disk instead of kept; duplicates and bad rows fail in the check pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from safeforge.errors import SafeforgeError
from safeforge.probes import ids_digest, plan, plan_probes, resolve_probes


def _csv(path: Path, rows: list[str], header: str = "prompt,expected") -> Path:
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_the_plan_streams_resolve_probes_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = _csv(tmp_path / "d.csv", [f"question {i},{'comply' if i % 2 else 'refuse'}" for i in range(12)])
    spec = {"datasets": [str(data)], "families": ["politeness"], "transforms": ["base64"], "seed": 3}
    expected = resolve_probes(**spec)  # type: ignore[arg-type]
    monkeypatch.setattr(plan, "KEEP", 5)  # larger than this: read again when sent
    planned = plan_probes(**spec)  # type: ignore[arg-type]
    assert planned.n == len(expected)
    assert list(planned) == expected
    assert list(planned) == expected  # every iteration reads afresh
    assert planned.ids == ids_digest(p.id for p in expected)
    data.unlink()
    with pytest.raises(SafeforgeError, match="not found"):
        list(planned)  # it really streams from the file


def test_a_small_plan_is_read_once(tmp_path: Path) -> None:
    data = _csv(tmp_path / "d.csv", ["a,refuse", "b,comply"])
    planned = plan_probes(datasets=[str(data)])
    data.unlink()
    assert [p.prompt for p in planned] == ["a", "b"]


def test_duplicates_and_bad_rows_fail_before_anything_is_sent(tmp_path: Path) -> None:
    twice = _csv(tmp_path / "twice.csv", ["same,refuse", "other,refuse", "same,refuse"])
    with pytest.raises(SafeforgeError, match=r"probe id 'twice:[0-9a-f]+' appears twice"):
        plan_probes(datasets=[str(twice)])
    bad = _csv(tmp_path / "bad.csv", ["fine,refuse", "odd,maybe"])
    with pytest.raises(SafeforgeError, match="row 2: expected='maybe'"):
        plan_probes(datasets=[str(bad)])
    with pytest.raises(SafeforgeError, match="nothing to scan"):
        plan_probes()
    with pytest.raises(SafeforgeError, match="--limit"):
        plan_probes(datasets=[str(bad)], limit=0)


def test_the_no_expected_column_note_is_said_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = _csv(tmp_path / "d.csv", ["a", "b", "c"], header="prompt")
    planned = plan_probes(datasets=[str(data)], transforms=["base64"])
    assert len(list(planned)) == 6
    assert capsys.readouterr().err.count("all 3 rows are taken as should-refuse") == 1
