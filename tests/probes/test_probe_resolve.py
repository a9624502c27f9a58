"""Suites, families, limit sampling and the `probes` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from safeforge.errors import SafeforgeError
from safeforge.probes import FAMILIES, load_dataset, resolve_probes, sample_groups
from safeforge.records import Method, Probe, Scenario


def _group_sizes(probes: list[Probe]) -> dict[str, int]:
    return Counter(p.group_id for p in probes)


def _family_group_sizes() -> dict[str, int]:
    sizes: dict[str, int] = {}
    for name in FAMILIES.names():
        sizes.update(_group_sizes(FAMILIES.get(name)(0)))
    return sizes


def test_quick_suite_is_small_balanced_and_whole() -> None:
    quick = resolve_probes(suite="quick", seed=0)
    assert 150 <= len(quick) <= 250
    per_family = Counter(p.family for p in quick)
    assert set(per_family) == set(FAMILIES.names())
    assert max(per_family.values()) <= 3 * min(per_family.values())
    full_sizes = _family_group_sizes()
    assert all(full_sizes[g] == n for g, n in _group_sizes(quick).items()), "groups are whole"
    assert any(p.expected.value == "comply" for p in quick)
    assert any(p.expected.value == "abstain" for p in quick)


def test_suites_are_deterministic_and_seeded() -> None:
    a, b = resolve_probes(suite="quick", seed=5), resolve_probes(suite="quick", seed=5)
    assert a == b
    assert {p.id for p in a} != {p.id for p in resolve_probes(suite="quick", seed=6)}
    sizes = [len(resolve_probes(suite=s)) for s in ("quick", "default", "full")]
    assert sizes == sorted(sizes)
    assert sizes[-1] == sum(len(FAMILIES.get(n)(0)) for n in FAMILIES.names())


def test_families_and_transforms_compose() -> None:
    probes = resolve_probes(families=["benign_contrast"], transforms=["leetspeak", "polite+rot13"])
    assert len(probes) == 140 * 3
    assert all(n == 6 for n in _group_sizes(probes).values())
    quick_one = resolve_probes(suite="quick", families=["politeness"])
    assert {p.family for p in quick_one} == {"politeness"}
    assert len(quick_one) < 30


def test_limit_keeps_groups_whole_and_is_exact() -> None:
    full = _family_group_sizes()
    for limit, seed in ((1, 0), (37, 1), (100, 2), (333, 3)):
        got = resolve_probes(suite="default", limit=limit, seed=seed)
        assert len(got) == limit
        assert got == resolve_probes(suite="default", limit=limit, seed=seed)
        partial = [g for g, n in _group_sizes(got).items() if n != full[g]]
        assert len(partial) <= 1, "at most one group is cut, to hit the exact limit"
        order = {p.id: i for i, p in enumerate(resolve_probes(suite="default", seed=seed))}
        assert [order[p.id] for p in got] == sorted(order[p.id] for p in got), "original order kept"
    wide = resolve_probes(suite="default", limit=120, seed=0)
    assert set(Counter(p.family for p in wide)) == set(FAMILIES.names()), "balanced across families"


def test_sample_groups_prefers_whole_groups() -> None:
    probes = resolve_probes(families=["unanswerable"])  # 54 pairs
    got = sample_groups(probes, 21, seed=0)
    sizes = defaultdict(int)
    for p in got:
        sizes[p.group_id] += 1
    assert len(got) == 21
    assert sorted(sizes.values()).count(1) == 1


def test_same_probes_in_a_fresh_process() -> None:
    """Seeded sampling depends on nothing process-local (hash seeds, set order)."""
    code = (
        "from safeforge.probes import resolve_probes;"
        "ps = resolve_probes(suite='quick', transforms=['polite+base64', 'synonym_swap'], limit=150, seed=7);"
        "print('\\n'.join(p.model_dump_json() for p in ps))"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    here = resolve_probes(suite="quick", transforms=["polite+base64", "synonym_swap"], limit=150, seed=7)
    assert out.stdout.splitlines() == [p.model_dump_json() for p in here]


def test_resolve_errors() -> None:
    with pytest.raises(SafeforgeError, match="nothing to scan"):
        resolve_probes()
    with pytest.raises(SafeforgeError, match="unknown suite"):
        resolve_probes(suite="huge")
    with pytest.raises(SafeforgeError, match="did you mean politeness"):
        resolve_probes(families=["politness"])
    with pytest.raises(SafeforgeError, match="limit"):
        resolve_probes(suite="quick", limit=0)


def test_prefix_finds_completion_files(benchmarks_dir: Path) -> None:
    probes = load_dataset(f"xstest:{benchmarks_dir / 'xstest/model_completions'}")
    assert len(probes) == 2250
    assert probes[0].family == "xstest-completions"
    judged = load_dataset(f"jbb:{benchmarks_dir / 'jbb-behaviors/judge-comparison.csv'}")
    assert judged[0].family == "jbb-judge"


def test_duplicate_dataset_is_an_error(benchmarks_dir: Path) -> None:
    path = str(benchmarks_dir / "advbench/harmful_behaviors.csv")
    with pytest.raises(SafeforgeError, match="appears twice"):
        resolve_probes(datasets=[path, path])


# ---- CLI ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def cli() -> CliRunner:
    return CliRunner()


def test_probes_list_shows_every_scenario_and_method(cli: CliRunner) -> None:
    from safeforge.cli import app

    result = cli.invoke(app, ["probes", "list"])
    assert result.exit_code == 0, result.output
    out = result.output
    for value in [s.value for s in Scenario] + [m.value for m in Method]:
        assert value in out, value
    for name in FAMILIES.names():
        assert name in out
    for name in ("xstest", "advbench", "harmbench", "strongreject", "orbench", "truthfulqa", "quick", "full"):
        assert name in out
    counts = {line.split()[0]: int(line.split()[1]) for line in out.split("\n\n")[0].splitlines()[1:]}
    assert counts == {n: len(FAMILIES.get(n)(0)) for n in FAMILIES.names()}


def test_probes_list_json_and_show(cli: CliRunner) -> None:
    from safeforge.cli import app

    data = json.loads(cli.invoke(app, ["probes", "list", "--json"]).output)
    assert {f["name"] for f in data["families"]} == set(FAMILIES.names())
    shown = cli.invoke(app, ["probes", "show", "unanswerable", "--limit", "3"])
    assert shown.exit_code == 0
    assert shown.output.count("unanswerable/") == 3
    encoded = cli.invoke(app, ["probes", "show", "polite+rot13", "--text", "How do rainbows form?"])
    assert encoded.exit_code == 0
    assert "rainbows" not in encoded.output
