"""CLI commands ``judge-eval`` (a judge vs human labels), ``judges list`` (every judge, its
options and extra) and ``judges train`` (rebuild the heads; ``judge train`` still works)."""

from __future__ import annotations

import json
import random
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from safeforge.cli._app import app
from safeforge.errors import SafeforgeError

judge_app = typer.Typer(help="List the judges; train the embedding heads.", no_args_is_help=True)
app.add_typer(judge_app, name="judges")
app.add_typer(judge_app, name="judge", hidden=True)  # the older spelling of the same group


class EvalTask(StrEnum):
    REFUSAL = "refusal"
    HARM = "harm"
    REQUEST = "request"
    CRITIC = "critic"


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


# how the binary confusion matrix names its classes, per task: (positive, negative)
_CLASS_NAMES = {
    "refusal": ("refusal", "compliance"),
    "harm": ("harmful", "safe"),
    "request_harm": ("harmful", "safe"),
    "critic": ("fail", "pass"),
}
_JSON_KEYS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "kappa",
    "n",
    "n_scorable",
    "confusion",
    "fpr",
    "fnr",
    "accuracy_ci",
    "n_unscorable",
    "three_way_accuracy",
    "three_way_confusion",
    "fr_only",
)


def _options(pairs: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SafeforgeError(f"--option {pair!r}: use KEY=VALUE")
        out[key.replace("-", "_")] = value
    return out


def _with_task(judge: str, task: Any, options: dict[str, Any]) -> dict[str, Any]:
    """Point a judge that scores several tasks at the one being evaluated (``embed`` -> its
    harm head for ``--task harm``), unless ``--option task=...`` says otherwise."""
    from safeforge.judges import JUDGES
    from safeforge.judges._base import judge_parameters
    from safeforge.records import Task

    accepts = any(p.name == "task" for p in judge_parameters(JUDGES.get(judge.partition("?")[0])))
    if accepts and "task" not in options and "task=" not in judge and task in (Task.REFUSAL, Task.HARM):
        return {**options, "task": task.value}
    return options


def confusion_table(confusion: dict[str, dict[str, int]], task: str) -> list[str]:
    """The confusion matrix as aligned text rows: human label down, judge label across."""
    pos, neg = _CLASS_NAMES.get(task, ("positive", "negative"))
    rename = {"positive": pos, "negative": neg}
    cols = list(next(iter(confusion.values())))
    header = ["human \\ judge", *(rename.get(c, c) for c in cols)]
    rows = [header] + [[rename.get(g, g), *(str(confusion[g][c]) for c in cols)] for g in confusion]
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    return ["  " + "  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]


@app.command("judge-eval")
def judge_eval(
    gold: Annotated[
        str,
        typer.Option(
            help="[FORMAT:]PATH; FORMAT (detected from the columns when left out) is xstest, "
            "xstest-prompts, jbb, dna, gptfuzz, csv or jsonl"
        ),
    ],
    judge: Annotated[str, typer.Option(help="Registered judge name (or NAME?key=value)")] = "cascade",
    task: Annotated[
        EvalTask | None, typer.Option(help="What to score [default: what the gold labels are about]")
    ] = None,
    prompt_column: Annotated[str, typer.Option(help="csv/jsonl: prompt column")] = "prompt",
    response_column: Annotated[str, typer.Option(help="csv/jsonl: response column")] = "response",
    label_column: Annotated[str, typer.Option(help="csv/jsonl: gold label column")] = "label",
    option: Annotated[list[str] | None, typer.Option(help="Judge option KEY=VALUE (repeatable)")] = None,
    limit: Annotated[int | None, typer.Option(help="Score a seeded random sample of this many")] = None,
    seed: Annotated[int, typer.Option(help="Sampling seed")] = 0,
    output_format: Annotated[OutputFormat, typer.Option("--format", help="text or json")] = OutputFormat.TEXT,
) -> None:
    """Score a judge against human-labelled data; print agreement beside the published numbers."""
    from safeforge.judges import create_judge
    from safeforge.judges.evaluate import evaluate
    from safeforge.judges.gold import GOLD_TASKS, load_gold, split_spec
    from safeforge.records import Task

    fmt, path = split_spec(gold)
    t = Task.REQUEST if task is EvalTask.REQUEST else Task(task.value) if task else GOLD_TASKS.get(fmt)
    t = t or Task.REFUSAL
    items = load_gold(
        f"{fmt}:{path}",
        t,
        prompt_column=prompt_column,
        response_column=response_column,
        label_column=label_column,
    )
    if limit is not None and limit < len(items):
        items = random.Random(seed).sample(items, limit)
    judge_obj = create_judge(judge, **_with_task(judge, t, _options(option)))
    result = evaluate(judge_obj, items, t)
    if result.n_scorable == 0:
        raise SafeforgeError(
            f"nothing to score: judge {judge!r} returned unscorable for all {result.n} {fmt} items "
            f"(task {t.value}); no agreement statistics exist"
        )
    trained_on = str(getattr(judge_obj, "meta", {}).get(f"{t.value.partition('_')[0]}.trained_on", ""))
    in_sample = bool(trained_on) and trained_on.startswith(f"{fmt}:")
    if output_format is OutputFormat.JSON:
        payload = {k: getattr(result, k) for k in _JSON_KEYS}
        typer.echo(
            json.dumps({"judge": judge, "task": t.value, "gold": fmt, "in_sample": in_sample, **payload})
        )
        return
    if in_sample:
        typer.echo(
            f"WARNING: in-sample: this judge's {t.value} head was trained on this data ({trained_on}); "
            "quote its held-out figure instead (safeforge/judges/VALIDATION.md)",
            err=True,
        )
    _print_agreement(result, judge, fmt, t.value, show_references=GOLD_TASKS.get(fmt) is t)


def _print_agreement(result: Any, judge: str, fmt: str, task: str, *, show_references: bool) -> None:
    from safeforge.judges.published import REFERENCES

    lo, hi = result.accuracy_ci
    head = f"judge {judge} vs {fmt} human labels, task {task}"
    typer.echo(f"{head} (positive = {result.positive}), n={result.n}")
    typer.echo(
        f"  accuracy {result.accuracy:.1%} (95% CI {lo:.1%}-{hi:.1%})  precision {result.precision:.1%}  "
        f"recall {result.recall:.1%}  F1 {result.f1:.1%}  kappa {result.kappa:.2f}"
    )
    typer.echo(f"  FPR {result.fpr:.1%}  FNR {result.fnr:.1%}  unscorable {result.n_unscorable}")
    if result.three_way_accuracy is not None:
        typer.echo(f"  exact 3-way accuracy {result.three_way_accuracy:.1%}")
    if result.fr_only is not None:
        typer.echo(
            f"  refusal = FR only: accuracy {result.fr_only['accuracy']:.1%}  "
            f"kappa {result.fr_only['kappa']:.2f}"
        )
    typer.echo("  confusion (rows: human label, columns: judge label):")
    for line in confusion_table(result.three_way_confusion or result.confusion, task):
        typer.echo(line)
    source, refs = REFERENCES.get(fmt, ("", ()))
    if refs and show_references:
        typer.echo(f"published/recomputed reference ({source}):")
        for r in refs:
            extra = "".join(
                f"  {k} {v:.2f}" if k == "kappa" else f"  {k} {v:.1%}"
                for k in ("kappa", "fpr", "fnr", "three_way_accuracy")
                if (v := getattr(r, k)) is not None
            )
            typer.echo(f"  {r.detector}: accuracy {r.accuracy:.1%}{extra}")


def _describe(name: str) -> dict[str, Any]:
    import inspect

    from safeforge.judges import JUDGES
    from safeforge.judges._base import judge_parameters

    factory = JUDGES.get(name)
    options = []
    for p in judge_parameters(factory):
        if p.kind is p.VAR_KEYWORD:
            options.append(f"**{p.name}")
        elif p.default is inspect.Parameter.empty:
            options.append(f"{p.name} (required)")
        elif p.name != "name":
            value = str(p.default.value if isinstance(p.default, StrEnum) else p.default)
            options.append(f"{p.name}={value if len(value) <= 24 else '...'}")
    doc = (inspect.getdoc(factory) or "").split("\n")[0].replace("``", "")
    return {"name": name, "extra": getattr(factory, "extra", None) or "", "options": options, "summary": doc}


@judge_app.command("list")
def judges_list(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per judge")] = False,
) -> None:
    """Every registered judge: what it does, the pip extra it needs and its options."""
    from safeforge.judges import DEFAULT_JUDGES, JUDGES

    rows = [_describe(n) for n in JUDGES.names()]
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    for row in rows:
        extra = f"  [needs safeforge[{row['extra']}]]" if row["extra"] else ""
        default = "  (default)" if row["name"] in DEFAULT_JUDGES else ""
        typer.echo(f"{row['name']}{default}{extra}: {row['summary']}")
        typer.echo(f"    options: {', '.join(row['options']) or 'none'}")
    typer.echo("Pass options as --judge 'NAME?key=value&key=value'.")


@judge_app.command("train")
def judge_train(
    data: Annotated[Path, typer.Option(help="Benchmark folder laid out like ../shared/data/benchmarks")],
    out: Annotated[Path | None, typer.Option(help="Where to write the heads [the packaged file]")] = None,
    backend: Annotated[str, typer.Option(help="Encoder backend: onnx (int8), onnx-fp32 or torch")] = "onnx",
    seed: Annotated[int, typer.Option(help="Seed for the synthetic data and the fits")] = 0,
) -> None:
    """Rebuild the refusal and request heads and the harm cross-encoder from data (~30 min on 2
    cores; see safeforge/judges/train.py)."""
    from safeforge.judges.heads import HEADS_PATH
    from safeforge.judges.train import train_heads
    from safeforge.judges.training_data import BenchmarkDir

    path = train_heads(BenchmarkDir(data), out=out or HEADS_PATH, backend=backend, seed=seed)
    typer.echo(f"wrote {path} and {path.with_name('harm_cross.safetensors')}")
    typer.echo("the harm cross-encoder's dev figures: python benchmarks/harm_cross_encoder.py")


__all__ = ["app"]
