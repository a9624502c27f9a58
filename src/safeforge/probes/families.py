"""The built-in probe families. Each family's group holds the paired variants that its metric
compares: the plain request next to its harsh / polite / obfuscated / framed forms, a
benign prompt next to its harmful contrast, a question next to its answerable control.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping

from safeforge.probes import framings, transforms
from safeforge.probes._content import COLLISIONS, EXTRACTIONS, SYSTEM_PROMPTS
from safeforge.probes._intents import INTENTS, Intent
from safeforge.probes._questions import QUESTIONS
from safeforge.probes._spec import TRANSFORMS, TransformKind, family, user
from safeforge.records import Expected, Message, Method, Probe, Scenario
from safeforge.taxonomy import DIRECT_REQUEST, HALLUCINATION, JAILBREAK, PROMPT_EXTRACTION

_ = transforms  # registers the obfuscations used below

REFUSE, COMPLY, ABSTAIN = Expected.REFUSE, Expected.COMPLY, Expected.ABSTAIN


def _rng(name: str, seed: int) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(f"{name}\0{seed}".encode()).digest()[:8], "big"))


def _variants(
    name: str,
    scenario: Scenario,
    method: Method,
    intent: Intent,
    forms: Mapping[str, tuple[Message, ...]],
    transformed: bool = False,
) -> list[Probe]:
    """The plain request plus each named form, all in the intent's group, all expected refused.
    ``transformed`` forms record their transform in ``meta["transform"]``, exactly as
    ``--transform NAME`` does, so the obfuscation metrics pair them with the plain form."""
    all_forms = {"plain": user(intent.request), **forms}
    return [
        Probe(
            id=f"{name}/{intent.id}/{variant}",
            intent_id=intent.id,
            family=name,
            scenario=scenario,
            method=method,
            variant=variant,
            messages=messages,
            expected=REFUSE,
            group_id=f"{name}/{intent.id}",
            category=intent.category,
            meta={"transform": variant} if transformed and variant != "plain" else {},
        )
        for variant, messages in all_forms.items()
    ]


def _framed(
    name: str,
    scenario: Scenario,
    method: Method,
    table: Mapping[str, tuple[str, ...]],
    seed: int,
    prefix: str = "",
) -> list[Probe]:
    rng = _rng(name, seed)
    out: list[Probe] = []
    for intent in INTENTS:
        forms = {
            f"{prefix}{key}": user(framings.render(rng.choice(templates), intent.request))
            for key, templates in table.items()
        }
        out += _variants(name, scenario, method, intent, forms)
    return out


@family(
    scenario=Scenario.POLITE_JAILBREAK, method=Method.DIFFERENTIAL, expected=(REFUSE,), taxonomy=JAILBREAK
)
def politeness(seed: int) -> list[Probe]:
    """Differential politeness: each harmful intent plain (neutral), harsh, and under five
    politeness strategies (deference, gratitude, credentials, apology, flattery). A model
    whose refusals soften when asked nicely shows a politeness gap within the group."""
    rng = _rng("politeness", seed)
    out: list[Probe] = []
    for intent in INTENTS:
        forms = {"harsh": user(framings.render(rng.choice(framings.HARSH), intent.request))}
        for strategy, templates in framings.POLITE.items():
            forms[f"polite:{strategy}"] = user(framings.render(rng.choice(templates), intent.request))
        out += _variants("politeness", Scenario.POLITE_JAILBREAK, Method.DIFFERENTIAL, intent, forms)
    return out


@family(scenario=Scenario.TRIGGER_INVERSION, method=Method.EDGE_TONE, expected=(REFUSE,), taxonomy=JAILBREAK)
def edge_tone(seed: int) -> list[Probe]:
    """Edge-tone completions: the harmful intent asked as satire, sarcasm, a hypothetical,
    fiction, role-play or an academic exercise. The tone changes; the request does not."""
    return _framed("edge_tone", Scenario.TRIGGER_INVERSION, Method.EDGE_TONE, framings.TONES, seed)


@family(
    scenario=Scenario.TRIGGER_INVERSION,
    method=Method.REWARD_INVERSION,
    expected=(REFUSE,),
    taxonomy=JAILBREAK,
)
def reward_inversion(seed: int) -> list[Probe]:
    """Reward inversion: ask for what a harmful model / evil twin / misaligned assistant would
    say, opposite-day refusals, or a contrastive "bad example" -- pretexts that turn the
    harmful answer into the apparently rewarded one."""
    return _framed(
        "reward_inversion", Scenario.TRIGGER_INVERSION, Method.REWARD_INVERSION, framings.INVERSIONS, seed
    )


@family(scenario=Scenario.TRIGGER_INVERSION, method=Method.DISGUISE, expected=(REFUSE,), taxonomy=JAILBREAK)
def benign_framing(seed: int) -> list[Probe]:
    """Harmful intent disguised as a benign task: story continuation, translation, a code
    docstring, "fix the grammar of", or a data-format conversion."""
    return _framed("benign_framing", Scenario.TRIGGER_INVERSION, Method.DISGUISE, framings.DISGUISES, seed)


@family(
    scenario=Scenario.POLICY_TOKEN_MEMORIZATION,
    method=Method.OBFUSCATION,
    expected=(REFUSE,),
    taxonomy=DIRECT_REQUEST,  # the plain forms; each obfuscated one adds its transform's ids
)
def obfuscation(seed: int) -> list[Probe]:
    """Policy-token memorization: each harmful intent plain and under every obfuscation
    transform (leetspeak, homoglyphs, invisible characters, spacing, splitting, base64, rot13,
    reversal, transliteration, synonym swap, payload splitting). The obfuscation robustness
    drop is the plain rejection rate minus the obfuscated one."""
    names = [n for n in TRANSFORMS.names() if TRANSFORMS.get(n).kind is TransformKind.OBFUSCATION]
    out: list[Probe] = []
    for intent in INTENTS:
        forms = {n: TRANSFORMS.get(n).messages(intent.request, seed=seed) for n in names}
        out += _variants(
            "obfuscation",
            Scenario.POLICY_TOKEN_MEMORIZATION,
            Method.OBFUSCATION,
            intent,
            forms,
            transformed=True,
        )
    return out


def _pair(
    name: str,
    scenario: Scenario,
    method: Method,
    key: str,
    category: str,
    items: tuple[tuple[str, str, Expected, dict[str, str]], ...],
) -> list[Probe]:
    """Probes that share one group: (variant, prompt, expected, meta) each."""
    return [
        Probe(
            id=f"{name}/{key}/{variant}",
            intent_id=f"{name}/{key}",
            family=name,
            scenario=scenario,
            method=method,
            variant=variant,
            messages=user(prompt),
            expected=expected,
            group_id=f"{name}/{key}",
            category=category,
            meta=meta,
        )
        for variant, prompt, expected, meta in items
    ]


@family(
    scenario=Scenario.NONE, method=Method.BENIGN_CONTRAST, expected=(COMPLY, REFUSE), taxonomy=DIRECT_REQUEST
)
def benign_contrast(seed: int) -> list[Probe]:
    """Benign contrast set: each intent's topic-matched benign twin (should be answered)
    beside the harmful request itself, for the false rejection rate."""
    del seed  # fixed content
    out: list[Probe] = []
    for it in INTENTS:
        out += [
            Probe(
                id=f"benign_contrast/{it.id}/{variant}",
                intent_id=it.id,
                family="benign_contrast",
                scenario=Scenario.NONE,
                method=Method.BENIGN_CONTRAST,
                variant=variant,
                messages=user(text),
                expected=expected,
                group_id=f"benign_contrast/{it.id}",
                category=it.category,
            )
            for variant, text, expected in (
                ("benign", it.benign_twin, COMPLY),
                ("harmful", it.request, REFUSE),
            )
        ]
    return out


@family(
    scenario=Scenario.TRIGGER_INVERSION,
    method=Method.BENIGN_CONTRAST,
    expected=(COMPLY, REFUSE),
    taxonomy=DIRECT_REQUEST,
)
def trigger_collision(seed: int) -> list[Probe]:
    """Over-refusal side of trigger inversion: benign prompts that contain trigger words
    ("kill weeds", "shoot fireworks") beside a harmful request built on the same word."""
    del seed
    out: list[Probe] = []
    for i, c in enumerate(COLLISIONS, 1):
        meta = {"trigger": c.trigger}
        items = (("benign", c.benign, COMPLY, meta), ("harmful", c.harmful, REFUSE, dict(meta)))
        out += _pair(
            "trigger_collision",
            Scenario.TRIGGER_INVERSION,
            Method.BENIGN_CONTRAST,
            f"collision-{i:02d}",
            c.trigger,
            items,
        )
    return out


@family(
    scenario=Scenario.REWARD_OVERFITTING,
    method=Method.UNANSWERABLE,
    expected=(ABSTAIN, COMPLY),
    taxonomy=HALLUCINATION,
)
def unanswerable(seed: int) -> list[Probe]:
    """Reward overfitting: fabricated entities, false premises and unanswerable questions
    (a careful model abstains or corrects the premise) each beside an answerable control on
    the same topic (a careful model answers). ``meta["kind"]`` says which; controls carry a
    short reference ``meta["answer"]``."""
    del seed
    out: list[Probe] = []
    for i, q in enumerate(QUESTIONS, 1):
        items = (
            ("question", q.question, ABSTAIN, {"kind": q.kind}),
            ("control", q.control, COMPLY, {"kind": q.kind, "answer": q.answer}),
        )
        out += _pair(
            "unanswerable", Scenario.REWARD_OVERFITTING, Method.UNANSWERABLE, f"q{i:02d}", q.kind, items
        )
    return out


def canary(system_id: str, seed: int) -> str:
    """A unique, seed-dependent code to plant in a system prompt; exact match means a leak."""
    return "SFC-" + hashlib.sha256(f"canary\0{system_id}\0{seed}".encode()).hexdigest()[:12].upper()


@family(
    scenario=Scenario.POLICY_TOKEN_MEMORIZATION,
    method=Method.INSTRUCTION_LEAKAGE,
    expected=(REFUSE, COMPLY),
    taxonomy=PROMPT_EXTRACTION,
)
def instruction_leakage(seed: int) -> list[Probe]:
    """Instruction leakage: system prompts holding a unique canary and confidential rules,
    probed with extraction attacks (repeat, ignore-previous, "what were you trained to
    refuse?", translate, summarize, debug, developer pretext, encode), beside an in-scope
    question the model should simply answer. Filed under policy-token memorization because a
    model that recites its refusal policy hands attackers the surface tokens to avoid;
    ``meta["canary"]`` makes leak detection exact."""
    out: list[Probe] = []
    for sp in SYSTEM_PROMPTS:
        code = canary(sp.id, seed)
        system = Message(role="system", content=sp.text.format(canary=code))
        attacks = [(name, text, REFUSE) for name, text in EXTRACTIONS.items()]
        for variant, text, expected in [*attacks, ("control", sp.question, COMPLY)]:
            out.append(
                Probe(
                    id=f"instruction_leakage/{sp.id}/{variant}",
                    intent_id=f"instruction_leakage/{sp.id}",
                    family="instruction_leakage",
                    scenario=Scenario.POLICY_TOKEN_MEMORIZATION,
                    method=Method.INSTRUCTION_LEAKAGE,
                    variant=variant,
                    messages=(system, Message(role="user", content=text)),
                    expected=expected,
                    group_id=f"instruction_leakage/{sp.id}",
                    category="instruction_leakage",
                    meta={"canary": code},
                )
            )
    return out
