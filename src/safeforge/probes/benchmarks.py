"""Public benchmark formats -> probes, read by path from the user's copy (nothing here copies
benchmark text). Each format is registered in ``DATASETS`` with the columns that identify it,
so ``--dataset PATH`` works without a ``FORMAT:`` prefix.

Expected behaviours: harmful-request sets (AdvBench, HarmBench, StrongREJECT, SimpleSafetyTests,
Do-Not-Answer, JBB harmful, XSTest ``unsafe``, OR-Bench toxic) -> ``refuse``; over-refusal sets
(XSTest ``safe``, JBB benign, OR-Bench 80k / hard) -> ``comply``. TruthfulQA -> ``comply``: a
truthful answer is wanted, and since its correct-answer lists accept "I have no comment",
``meta["abstain_ok"] = "true"`` tells judges an abstention is truthful though uninformative;
the reference answers ride in ``meta`` (``best_answer``, ``correct_answers``,
``incorrect_answers``, ``; ``-separated). Completion sets (``xstest-completions``,
``jbb-judge``, ``dna-completions``) carry the recorded ``meta["response"]`` and the human
``meta["gold_label"]`` (with ``meta["gold_task"]``: ``refusal`` or ``harm``) for the
``replay`` target and the ``gold`` judge.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

from safeforge.errors import SafeforgeError
from safeforge.records import Expected, Message, Probe
from safeforge.registry import Registry
from safeforge.taxonomy import DIRECT_REQUEST, HALLUCINATION, Taxonomy

Row = dict[str, str]  # column names normalised: lower case, spaces and dashes -> "_"


@dataclass(frozen=True)
class Source:
    """Where rows came from: a short ``name`` for ids, the ``origin`` for messages and meta,
    and a lower-case ``hint`` (file name or split) that picks a file's side (harmful/benign)."""

    name: str
    origin: str
    hint: str = ""


LoadFn = Callable[[list[Row], Source], list[Probe]]


@dataclass(frozen=True)
class DatasetFormat:
    """A registered dataset format; ``columns`` (normalised) identify it in auto-detection."""

    name: str
    columns: frozenset[str]
    load: LoadFn
    doc: str
    expected: str


DATASETS: Registry[DatasetFormat] = Registry("dataset")


def dataset_format(*, columns: tuple[str, ...], expected: str) -> Callable[[LoadFn], DatasetFormat]:
    """Register ``fn(rows, source)`` as a format named after the function (``_`` -> ``-``)."""

    def deco(fn: LoadFn) -> DatasetFormat:
        name = fn.__name__.removeprefix("load_").replace("_", "-")
        entry = DatasetFormat(name, frozenset(columns), fn, (fn.__doc__ or "").strip(), expected)
        DATASETS.register(entry, name=name)
        return entry

    return deco


def norm(column: str) -> str:
    return column.strip().lower().replace(" ", "_").replace("-", "_")


def make_probe(
    src: Source,
    fmt: str,
    ident: str,
    row_no: int,
    prompt: str,
    expected: Expected,
    *,
    group: str | None = None,
    category: str = "",
    meta: dict[str, str] | None = None,
    tags: tuple[str, ...] = (),
    taxonomy: Taxonomy = DIRECT_REQUEST,
    family: str | None = None,
) -> Probe:
    """One benchmark probe; an empty prompt is a user-fixable error naming the row. Rows are
    plain requests (``DIRECT_REQUEST``'s ids) unless the format says otherwise; the family is
    the format unless given."""
    text = prompt.strip()
    if not text:
        raise SafeforgeError(f"{src.origin}: row {row_no} has an empty prompt; fill it in or delete the row")
    pid = f"{fmt}:{ident}"
    return Probe(
        id=pid,
        intent_id=group or pid,
        family=family or fmt,
        messages=(Message(role="user", content=text),),
        expected=expected,
        group_id=group or pid,
        category=category,
        tags=tags,
        taxonomy=taxonomy.ids,
        meta={"source": src.origin, **(meta or {})},
    )


def _need(rows: list[Row], src: Source, fmt: str, *cols: str) -> None:
    if not rows:
        raise SafeforgeError(f"{src.origin}: no rows")
    missing = [c for c in cols if c not in rows[0]]
    if missing:
        raise SafeforgeError(
            f"{src.origin}: not a {fmt} file: missing column(s) {', '.join(missing)} "
            f"(columns: {', '.join(rows[0])})"
        )


@dataset_format(columns=("prompt", "type", "label", "focus"), expected="safe -> comply, unsafe -> refuse")
def load_xstest(rows: list[Row], src: Source) -> list[Probe]:
    """XSTest ``xstest_prompts.csv``: 250 safe prompts (comply) and 200 unsafe contrasts (refuse)."""
    _need(rows, src, "xstest", "prompt", "label")
    out = []
    for i, r in enumerate(rows, 1):
        label = r["label"].strip().lower()
        if label not in {"safe", "unsafe"}:
            raise SafeforgeError(f"{src.origin}: row {i}: label={label!r}; XSTest labels are safe or unsafe")
        expected = Expected.COMPLY if label == "safe" else Expected.REFUSE
        meta = {k: r.get(k, "") for k in ("type", "focus", "note", "label")}
        out.append(
            make_probe(
                src,
                "xstest",
                r.get("id") or str(i),
                i,
                r["prompt"],
                expected,
                category=r.get("type", ""),
                meta=meta,
                tags=(label,),
            )
        )
    return out


def _xstest_model(src: Source) -> str:
    return src.name.removeprefix("xstest_v2_completions_")


@dataset_format(columns=("prompt", "completion", "final_label"), expected="by XSTest type (safe -> comply)")
def load_xstest_completions(rows: list[Row], src: Source) -> list[Probe]:
    """XSTest ``model_completions/*.csv`` (one file or the directory): prompt, recorded
    completion and the human ``final_label`` as ``gold_label`` (task ``refusal``)."""
    _need(rows, src, "xstest-completions", "prompt", "completion", "final_label")
    model = _xstest_model(src)
    out = []
    for i, r in enumerate(rows, 1):
        kind = r.get("type", "")
        expected = Expected.REFUSE if kind.startswith("contrast") else Expected.COMPLY
        ident = r.get("id") or str(i)
        meta = {
            "type": kind,
            "model": model,
            "response": r["completion"],
            "gold_label": r["final_label"].strip(),
            "gold_task": "refusal",
            "agreement": r.get("agreement", ""),
        }
        out.append(
            make_probe(
                src,
                "xstest-completions",
                f"{model}:{ident}",
                i,
                r["prompt"],
                expected,
                group=f"xstest:{ident.removeprefix('v2-')}",
                category=kind,
                meta=meta,
                tags=(model,),
            )
        )
    return out


@dataset_format(
    columns=("goal", "target", "behavior", "category"), expected="harmful -> refuse, benign -> comply"
)
def load_jbb(rows: list[Row], src: Source) -> list[Probe]:
    """JailbreakBench JBB-Behaviors: ``harmful-behaviors.csv`` (refuse) or ``benign-behaviors.csv``
    (comply; chosen when the file or split name says benign). Row ``Index`` pairs the two files:
    harmful and benign rows with the same index share a group."""
    _need(rows, src, "jbb", "goal")
    benign = "benign" in src.hint
    side = "benign" if benign else "harmful"
    expected = Expected.COMPLY if benign else Expected.REFUSE
    out = []
    for i, r in enumerate(rows, 1):
        index = r.get("index") or str(i - 1)
        meta = {k: r.get(k, "") for k in ("behavior", "target") if r.get(k)}
        meta["jbb_source"] = r.get("source", "")
        out.append(
            make_probe(
                src,
                "jbb",
                f"{side}:{index}",
                i,
                r["goal"],
                expected,
                group=f"jbb:{index}",
                category=r.get("category", ""),
                meta=meta,
                tags=(side,),
            )
        )
    return out


@dataset_format(columns=("goal", "prompt", "target_response", "human_majority"), expected="refuse")
def load_jbb_judge(rows: list[Row], src: Source) -> list[Probe]:
    """JailbreakBench ``judge-comparison.csv``: the jailbreak prompt actually sent, the recorded
    response, and ``human_majority`` as ``gold_label`` (task ``harm``: harmful / safe)."""
    _need(rows, src, "jbb-judge", "goal", "prompt", "target_response", "human_majority")
    out = []
    for i, r in enumerate(rows, 1):
        index = r.get("index") or str(i - 1)
        gold = "harmful" if r["human_majority"].strip() == "1" else "safe"
        meta = {"goal": r["goal"], "response": r["target_response"], "gold_label": gold, "gold_task": "harm"}
        meta |= {k: r[k] for k in ("harmbench_cf", "gpt4_cf", "llamaguard2_cf", "llama3_cf") if k in r}
        out.append(make_probe(src, "jbb-judge", index, i, r["prompt"], Expected.REFUSE, meta=meta))
    return out


@dataset_format(columns=("goal", "target"), expected="refuse")
def load_advbench(rows: list[Row], src: Source) -> list[Probe]:
    """AdvBench ``harmful_behaviors.csv``: 520 harmful instructions, all to be refused."""
    _need(rows, src, "advbench", "goal")
    return [
        make_probe(
            src, "advbench", str(i), i, r["goal"], Expected.REFUSE, meta={"target": r.get("target", "")}
        )
        for i, r in enumerate(rows, 1)
    ]


@dataset_format(columns=("behavior", "functionalcategory"), expected="refuse")
def load_harmbench(rows: list[Row], src: Source) -> list[Probe]:
    """HarmBench behaviors CSV (``Behavior``, ``FunctionalCategory``, ``SemanticCategory``,
    ``ContextString``, ``BehaviorID``). Contextual behaviors are sent as context, a ``---``
    line, then the behavior, as HarmBench formats them. All are to be refused."""
    _need(rows, src, "harmbench", "behavior")
    out = []
    for i, r in enumerate(rows, 1):
        context = r.get("contextstring", "").strip()
        prompt = f"{context}\n\n---\n\n{r['behavior']}" if context else r["behavior"]
        ident = r.get("behaviorid") or str(i)
        meta = {"functional_category": r.get("functionalcategory", ""), "tags": r.get("tags", "")}
        out.append(
            make_probe(
                src,
                "harmbench",
                ident,
                i,
                prompt,
                Expected.REFUSE,
                category=r.get("semanticcategory", ""),
                meta=meta,
            )
        )
    return out


@dataset_format(columns=("forbidden_prompt",), expected="refuse")
def load_strongreject(rows: list[Row], src: Source) -> list[Probe]:
    """StrongREJECT (``category``, ``source``, ``forbidden_prompt``): all to be refused."""
    _need(rows, src, "strongreject", "forbidden_prompt")
    return [
        make_probe(
            src,
            "strongreject",
            str(i),
            i,
            r["forbidden_prompt"],
            Expected.REFUSE,
            category=r.get("category", ""),
            meta={"origin": r.get("source", "")},
        )
        for i, r in enumerate(rows, 1)
    ]


_DNA_MODELS = ("gpt4", "chatgpt", "claude", "chatglm2", "llama2_7b_chat", "vicuna_7b")


@dataset_format(columns=("question", "gpt4_response", "gpt4_harmful"), expected="refuse")
def load_dna_completions(rows: list[Row], src: Source) -> list[Probe]:
    """Do-Not-Answer ``data_en.csv``: 939 questions x 6 models' recorded responses, with the
    human ``*_harmful`` label as ``gold_label`` (task ``harm``) and ``*_action`` in meta."""
    _need(rows, src, "dna-completions", "question")
    models = [m for m in _DNA_MODELS if f"{m}_response" in rows[0] and f"{m}_harmful" in rows[0]]
    out = []
    for i, r in enumerate(rows, 1):
        ident = r.get("id") or str(i - 1)
        for m in models:
            gold = "harmful" if r[f"{m}_harmful"].strip() == "1" else "safe"
            meta = {
                "model": m,
                "response": r[f"{m}_response"],
                "gold_label": gold,
                "gold_task": "harm",
                "action": r.get(f"{m}_action", ""),
                "risk_area": r.get("risk_area", ""),
            }
            out.append(
                make_probe(
                    src,
                    "dna-completions",
                    f"{m}:{ident}",
                    i,
                    r["question"],
                    Expected.REFUSE,
                    group=f"dna:{ident}",
                    category=r.get("types_of_harm", ""),
                    meta=meta,
                    tags=(m,),
                )
            )
    return out


@dataset_format(columns=("question", "risk_area", "types_of_harm"), expected="refuse")
def load_dna(rows: list[Row], src: Source) -> list[Probe]:
    """Do-Not-Answer ``do_not_answer_en.csv``: 939 questions a responsible model should not
    simply follow (refuse, refute or answer cautiously); expected ``refuse``."""
    _need(rows, src, "dna", "question")
    return [
        make_probe(
            src,
            "dna",
            r.get("id") or str(i - 1),
            i,
            r["question"],
            Expected.REFUSE,
            group=f"dna:{r.get('id') or i - 1}",
            category=r.get("types_of_harm", ""),
            meta={"risk_area": r.get("risk_area", ""), "specific_harms": r.get("specific_harms", "")},
        )
        for i, r in enumerate(rows, 1)
    ]


@dataset_format(columns=("prompts_final", "harm_area"), expected="refuse")
def load_sst(rows: list[Row], src: Source) -> list[Probe]:
    """SimpleSafetyTests: 100 prompts over 5 harm areas, all to be refused (or answered
    safely, e.g. by pointing to support resources)."""
    _need(rows, src, "sst", "prompts_final")
    return [
        make_probe(
            src,
            "sst",
            r.get("id") or str(i),
            i,
            r["prompts_final"],
            Expected.REFUSE,
            category=r.get("harm_area", ""),
            meta={"kind": r.get("category", "")},
        )
        for i, r in enumerate(rows, 1)
    ]


def _answers(value: str) -> str:
    """Reference lists as ``; ``-separated text (HF rows arrive as a list repr)."""
    v = value.strip()
    if v.startswith("[") and v.endswith("]"):
        try:
            items = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            return v
        return "; ".join(str(x) for x in items)
    return v


@dataset_format(
    columns=("question", "best_answer", "correct_answers", "incorrect_answers"),
    expected="comply (abstention acceptable)",
)
def load_truthfulqa(rows: list[Row], src: Source) -> list[Probe]:
    """TruthfulQA (817 questions): expected ``comply`` with a truthful answer; reference
    answers in meta and ``abstain_ok`` because its correct lists accept "I have no comment"."""
    _need(rows, src, "truthfulqa", "question", "best_answer")
    out = []
    for i, r in enumerate(rows, 1):
        meta = {
            "best_answer": r["best_answer"],
            "correct_answers": _answers(r.get("correct_answers", "")),
            "incorrect_answers": _answers(r.get("incorrect_answers", "")),
            "type": r.get("type", ""),
            "abstain_ok": "true",
        }
        out.append(
            make_probe(
                src,
                "truthfulqa",
                str(i),
                i,
                r["question"],
                Expected.COMPLY,
                category=r.get("category", ""),
                meta=meta,
                taxonomy=HALLUCINATION,
            )
        )
    return out


@dataset_format(columns=(), expected="toxic -> refuse, 80k / hard -> comply")
def load_orbench(rows: list[Row], src: Source) -> list[Probe]:
    """OR-Bench (``prompt``, ``category``): the ``or-bench-toxic`` set is to be refused; the
    ``or-bench-80k`` and ``or-bench-hard-1k`` sets are seemingly-toxic but safe (comply). The
    side comes from the file or config name (``toxic`` in it means refuse). Detected by a file
    name containing ``or-bench`` / ``orbench``, or by the ``orbench:`` prefix."""
    _need(rows, src, "orbench", "prompt")
    toxic = "toxic" in src.hint
    expected = Expected.REFUSE if toxic else Expected.COMPLY
    side = "toxic" if toxic else ("hard" if "hard" in src.hint else "80k")
    return [
        make_probe(
            src,
            "orbench",
            f"{side}:{i}",
            i,
            r["prompt"],
            expected,
            category=r.get("category", ""),
            tags=(side,),
        )
        for i, r in enumerate(rows, 1)
    ]


# Whole-probe JSONL records (``probe_json`` column) are written and read by the harden
# package's held-out eval sets; registered lazily so ``--dataset probes:FILE`` works in any
# process without importing the training side up front.
DATASETS.lazy("probes", "safeforge.harden.evalset:load_probes")
