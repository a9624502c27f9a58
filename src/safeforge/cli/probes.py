"""CLI commands ``probes list`` and ``probes show``: what the probe library holds.

Plain aligned text (never truncated, so every scenario and method name is greppable), or
``--json`` for scripts.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from safeforge.cli._app import app

probes_app = typer.Typer(
    help="List and inspect probe families, transforms, datasets and suites.", no_args_is_help=True
)
app.add_typer(probes_app, name="probes")


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows)


def _catalog(seed: int) -> dict[str, list[dict[str, Any]]]:
    from safeforge.probes import DATASETS, FAMILIES, SUITES, TRANSFORMS, suite_probes

    families = []
    for name in FAMILIES.names():
        fam = FAMILIES.get(name)
        probes = fam(seed)
        families.append(
            {
                "name": name,
                "probes": len(probes),
                "groups": len({p.group_id for p in probes}),
                "scenario": fam.scenario.value,
                "method": fam.method.value,
                "expected": ",".join(e.value for e in fam.expected),
                "taxonomy": list(fam.taxonomy.ids),
                "summary": fam.summary,
            }
        )
    transforms = [
        {
            "name": t.name,
            "kind": t.kind.value,
            "scenario": t.scenario.value,
            "method": t.method.value,
            "taxonomy": list(t.taxonomy.ids),
            "summary": t.summary,
        }
        for t in (TRANSFORMS.get(n) for n in TRANSFORMS.names())
    ]
    datasets = []
    for n in DATASETS.names():
        try:
            d = DATASETS.get(n)
        except ImportError as exc:  # a lazily registered plugin that cannot load: say so, go on
            datasets.append(
                {
                    "name": n,
                    "scenario": "none",
                    "method": "benchmark",
                    "expected": f"unavailable ({exc})",
                    "columns": [],
                    "summary": "",
                }
            )
            continue
        datasets.append(
            {
                "name": d.name,
                "scenario": "none",
                "method": "benchmark",
                "expected": d.expected,
                "columns": sorted(d.columns),
                "summary": d.doc.splitlines()[0] if d.doc else "",
            }
        )
    suites = [
        {"name": s.name, "probes": len(suite_probes(s.name, (), seed)), "summary": s.doc}
        for s in SUITES.values()
    ]
    return {"families": families, "transforms": transforms, "datasets": datasets, "suites": suites}


@probes_app.command("list")
def list_probes(
    seed: Annotated[int, typer.Option(help="Seed the counts are computed with")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output")] = False,
) -> None:
    """Show every probe family (counts, scenario, method, expected), transform, dataset
    format and suite."""
    from safeforge.records import Method, Scenario

    cat = _catalog(seed)
    if as_json:
        typer.echo(json.dumps(cat, indent=2))
        return
    fam_rows = [["FAMILY", "PROBES", "GROUPS", "SCENARIO", "METHOD", "EXPECTED", "OWASP / NIST / ATLAS"]]
    fam_rows += [
        [str(f[k]) for k in ("name", "probes", "groups", "scenario", "method", "expected")]
        + [",".join(f["taxonomy"])]
        for f in cat["families"]
    ]
    tr_rows = [["TRANSFORM", "KIND", "SCENARIO", "METHOD", "OWASP / NIST / ATLAS", "WHAT"]]
    tr_rows += [
        [str(t[k]) for k in ("name", "kind", "scenario", "method")] + [",".join(t["taxonomy"]), t["summary"]]
        for t in cat["transforms"]
    ]
    ds_rows = [["DATASET FORMAT", "SCENARIO", "METHOD", "EXPECTED"]]
    ds_rows += [[str(d[k]) for k in ("name", "scenario", "method", "expected")] for d in cat["datasets"]]
    ds_rows += [
        ["csv / jsonl", "none", "benchmark", "column 'expected' or ?default= (refuse)"],
        ["hf:ORG/NAME[:CONFIG]", "none", "benchmark", "by detected format"],
    ]
    su_rows = [["SUITE", "PROBES", "WHAT"]] + [
        [str(s["name"]), str(s["probes"]), str(s["summary"])] for s in cat["suites"]
    ]
    covered = [["SCENARIO / METHOD", "COVERED BY"]]
    for value in [*(s.value for s in Scenario), *(m.value for m in Method)]:
        by = [str(f["name"]) for f in cat["families"] if value in (f["scenario"], f["method"])]
        by += [f"transform:{t['name']}" for t in cat["transforms"] if value in (t["scenario"], t["method"])][
            :3
        ]
        if value in ("none", "benchmark"):
            by.append("dataset formats")
        if value == "attacker_model":
            by.append("safeforge attack (pair, tap, crescendo)")
        covered.append([value, ", ".join(by) or "-"])
    typer.echo("\n\n".join(_table(t) for t in (fam_rows, tr_rows, ds_rows, su_rows, covered)))


@probes_app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="A probe family, a suite, or a transform")],
    seed: Annotated[int, typer.Option(help="Generation seed")] = 0,
    limit: Annotated[int, typer.Option(help="Show at most this many probes")] = 20,
    text: Annotated[str, typer.Option(help="Example text for a transform")] = "Explain how rainbows form.",
    as_json: Annotated[bool, typer.Option("--json", help="One probe per line as JSON")] = False,
) -> None:
    """Print a family's or suite's probes (or a transform applied to --text)."""
    from safeforge.errors import SafeforgeError
    from safeforge.probes import FAMILIES, SUITES, TRANSFORMS, parse_chain, suite_probes

    if "+" in name or (name in TRANSFORMS and name not in FAMILIES):
        chain = parse_chain(name)
        for t in chain[:-1]:
            text = t(text, seed=seed)
        for m in chain[-1].messages(text, seed=seed):
            typer.echo(f"[{m.role}] {m.content}")
        return
    if name in SUITES:
        probes = suite_probes(name, (), seed)
    elif name in FAMILIES:
        probes = FAMILIES.get(name)(seed)
    else:
        FAMILIES.get(name)  # raises the did-you-mean error
        raise SafeforgeError(f"unknown family, suite or transform {name!r}")
    for p in probes[:limit]:
        if as_json:
            typer.echo(p.model_dump_json())
        else:
            prompt = p.prompt.replace("\n", " ")
            typer.echo(f"{p.id}  [{p.expected.value}]  {prompt[:110]}")
    if not as_json and len(probes) > limit:
        typer.echo(f"... {len(probes) - limit} more (--limit)")


__all__ = ["app", "probes_app"]
