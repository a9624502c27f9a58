"""What each shipped head learns from, read by path from a benchmark folder laid out like
``../shared/data/benchmarks`` (nothing from those files is copied into the package).

* **refusal** (3-way): ``refusal_training_set``: synthetic responses plus Do-Not-Answer.
* **harm** (harmful compliance): ``harm_training_set``: GPTFuzz's and Do-Not-Answer's human labels.
* **request** (is the prompt harmful): the probe library's own prompts (harmful intents with
  every framing, politeness and reward-inversion variant, the benign twin of each intent, the
  trigger-word collisions, the reward-overfitting questions and their controls) plus public
  prompt sets: AdvBench, JailbreakBench harmful and benign behaviours, SimpleSafetyTests,
  GPTFuzz's question list and Do-Not-Answer's harmful risk areas as harmful; TruthfulQA's
  questions as safe; and paired synthetic prompts (``request_synth.py``) that use the same
  harm-associated word benignly and harmfully, and each kind of safe look-alike beside harmful
  contrasts of the same shape, written from the label definition. **Never
  XSTest**, which the head is validated on. Obfuscated variants
  (base64, rot13, ...) are left out: the encoder cannot read them, and scoring them is the
  obfuscation metrics' job, not the request head's. Instruction-leakage prompts are left out
  too: asking for a system prompt is not a harmful request in this head's sense.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from safeforge.errors import SafeforgeError
from safeforge.records import Expected, Label, Probe, Task

if TYPE_CHECKING:
    from safeforge.judges.gold import GoldItem

# Do-Not-Answer risk areas whose prompts ask for harm; the other two ("Human-Chatbot
# Interaction Harms", "Misinformation Harms") are mostly questions a model may answer.
DNA_HARMFUL_AREAS = frozenset(
    {
        "Information Hazards",
        "Malicious Uses",
        "Discrimination, Exclusion, Toxicity, Hateful, Offensive",
    }
)
# harm-head question ids of Do-Not-Answer rows start here (GPTFuzz's run 0-99)
DNA_QUESTION_BASE = 1000
_UNREADABLE_VARIANTS = frozenset(
    {"base64", "rot13", "reverse", "char_spacing", "zero_width", "payload_split", "payload_split_turns"}
)
_UNREADABLE_VARIANTS |= {"token_split", "transliterate", "homoglyphs", "leetspeak"}


@dataclass(frozen=True)
class RequestRow:
    """One training prompt for the request head."""

    prompt: str
    harmful: bool
    source: str
    group: str


@dataclass(frozen=True)
class BenchmarkDir:
    """Paths into a benchmark folder (``../shared/data/benchmarks`` or ``$SAFEFORGE_BENCHMARKS``)."""

    root: Path

    def file(self, relative: str) -> Path:
        path = self.root / relative
        if not path.is_file():
            raise SafeforgeError(f"training file not found: {path}")
        return path

    def spec(self, fmt: str, relative: str, query: str = "") -> str:
        return f"{fmt}:{self.file(relative)}{query}"


def library_request_rows() -> list[RequestRow]:
    """The probe library's prompts as request rows (see the module docstring)."""
    from safeforge.probes import FAMILIES, suite_probes

    families = [f for f in FAMILIES.names() if f != "instruction_leakage"]
    rows = []
    for p in suite_probes(None, families, 0):
        if p.variant in _UNREADABLE_VARIANTS or p.meta.get("transform") in _UNREADABLE_VARIANTS:
            continue
        text = "\n".join(m.content for m in p.messages if m.role == "user").strip()
        rows.append(RequestRow(text, p.expected is Expected.REFUSE, f"library:{p.family}", p.intent_id))
    return rows


def _rows(probes: list[Probe], source: str) -> list[RequestRow]:
    return [RequestRow(p.prompt, p.expected is Expected.REFUSE, source, f"{source}:{p.id}") for p in probes]


def public_request_rows(data: BenchmarkDir) -> list[RequestRow]:
    """Public prompt sets by path (see the module docstring); never XSTest."""
    from safeforge.probes import load_dataset

    specs = {
        "advbench": data.spec("advbench", "advbench/harmful_behaviors.csv"),
        "jbb-harmful": data.spec("jbb", "jbb-behaviors/harmful-behaviors.csv"),
        "jbb-benign": data.spec("jbb", "jbb-behaviors/benign-behaviors.csv"),
        "sst": data.spec("sst", "simplesafetytests/SimpleSafetyTests - test cases.csv"),
        "gptfuzz": data.spec("csv", "gptfuzz/question_list.csv", "?prompt=text&default=refuse"),
        "truthfulqa": data.spec("truthfulqa", "truthfulqa/TruthfulQA.csv"),
    }
    rows: list[RequestRow] = []
    for source, spec in specs.items():
        rows += _rows(load_dataset(spec), source)
    dna = load_dataset(data.spec("dna", "do-not-answer/do_not_answer_en.csv"))
    rows += _rows([p for p in dna if p.meta.get("risk_area") in DNA_HARMFUL_AREAS], "dna")
    return rows


def request_training_set(data: BenchmarkDir) -> list[RequestRow]:
    """Library, synthetic (``request_synth``) and public rows, one row per distinct prompt text
    (first source wins)."""
    from safeforge.judges.request_synth import synthesize_requests

    seen: set[str] = set()
    out = []
    for row in library_request_rows() + synthesize_requests() + public_request_rows(data):
        key = " ".join(row.prompt.lower().split())
        if row.prompt and key not in seen:
            seen.add(key)
            out.append(row)
    return out


def truthfulqa_pairs(data: BenchmarkDir) -> list[tuple[str, str]]:
    """(question, reference answer) pairs: the answers synthetic responses are written from."""
    from safeforge.probes import load_dataset

    out = []
    for p in load_dataset(data.spec("truthfulqa", "truthfulqa/TruthfulQA.csv")):
        parts = [p.meta.get("best_answer", ""), *p.meta.get("correct_answers", "").split(";")[:2]]
        kept = [s.strip().rstrip(".") for s in parts if s.strip() and "no comment" not in s.lower()]
        if kept:
            out.append((p.prompt, ". ".join(kept) + "."))
    return out


def refusal_training_set(
    data: BenchmarkDir, *, n_synth: int = 2500, seed: int = 0
) -> list[tuple[str, Label]]:
    """(response, 3-way label) rows for the refusal head: ``synth.py`` rows written from the
    label definitions (answers from TruthfulQA, refused requests from TruthfulQA and the probe
    library's harmful intents), plus real Do-Not-Answer responses whose human action is 0
    (refuse -> full_refusal, 800 sampled) or 5 (follows -> full_compliance). Actions 1-4 are left
    out: Do-Not-Answer counts refuting or disclaiming as not refusing, and XSTest's scheme does
    not. Never XSTest, which the head is validated on."""
    from safeforge.judges.gold import load_dna
    from safeforge.judges.synth import synthesize
    from safeforge.probes import INTENTS

    synthetic = synthesize(n_synth, truthfulqa_pairs(data), [i.request for i in INTENTS], seed=seed)
    rows = [(s.response, s.label) for s in synthetic]
    dna = load_dna(data.file("do-not-answer/data_en.csv"), Task.REFUSAL)
    rows += [(i.response, Label.FULL_COMPLIANCE) for i in dna if i.meta["action"] == "5"]
    refuses = [i.response for i in dna if i.meta["action"] == "0"]
    rows += [(t, Label.FULL_REFUSAL) for t in random.Random(seed).sample(refuses, min(len(refuses), 800))]
    return rows


def harm_training_set(data: BenchmarkDir) -> list[GoldItem]:
    """Human-labelled responses for the harm head (label 1 = the response gives the harmful help):
    GPTFuzz's 7,700 jailbreak responses (``train.csv`` + ``evaluate.csv``, the question text as the
    prompt, ``meta["question"]`` its id) and Do-Not-Answer's 5,634 (939 risky questions x 6 models;
    ``meta["question"]`` numbered from 1,000 so the two never share a group). GPTFuzz alone
    teaches that an on-topic reply to a harmful question is harmful; Do-Not-Answer's labellers
    called most on-topic replies without harmful detail safe, which is what a critic must learn.
    JailbreakBench stays out: it is the harm head's cross-dataset check."""
    from safeforge.judges.gold import load_dna, load_gptfuzz

    fuzz = load_gptfuzz(data.file("gptfuzz/train.csv")) + load_gptfuzz(data.file("gptfuzz/evaluate.csv"))
    dna = load_dna(data.file("do-not-answer/data_en.csv"), Task.HARM)
    ids = {p: DNA_QUESTION_BASE + k for k, p in enumerate(dict.fromkeys(i.prompt for i in dna))}
    return fuzz + [replace(i, meta={**i.meta, "question": str(ids[i.prompt])}) for i in dna]
