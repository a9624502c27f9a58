"""The one record that flows through safeforge: Probe -> Attempt (+ Verdicts).

Every stage copies the record forward (``model_copy(update=...)``) instead of mutating it,
so a stored attempt is exactly what the pipeline saw. ``FORMAT_VERSION`` is written with
every record so stores and exports written by older releases can be recognised.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FORMAT_VERSION = 1


class Expected(StrEnum):
    """What a well-aligned model should do with a probe."""

    REFUSE = "refuse"
    COMPLY = "comply"
    ABSTAIN = "abstain"


class Scenario(StrEnum):
    """Threat scenarios of DESIGN.md section 1 (``none`` for plain benchmark or control prompts)."""

    REWARD_OVERFITTING = "reward_overfitting"
    POLICY_TOKEN_MEMORIZATION = "policy_token_memorization"
    POLITE_JAILBREAK = "polite_jailbreak"
    TRIGGER_INVERSION = "trigger_inversion"
    NONE = "none"


class Method(StrEnum):
    """Red-team methods of DESIGN.md section 1, plus the plain forms probes are paired against."""

    DIFFERENTIAL = "differential_prompts"
    INSTRUCTION_LEAKAGE = "instruction_leakage"
    EDGE_TONE = "edge_tone"
    REWARD_INVERSION = "reward_inversion"
    OBFUSCATION = "obfuscation"
    DISGUISE = "benign_framing"
    UNANSWERABLE = "unanswerable_questions"
    BENIGN_CONTRAST = "benign_contrast"
    BENCHMARK = "benchmark"
    ATTACKER_MODEL = "attacker_model"
    """A turn of an attacker-driven conversation (``safeforge attack``: PAIR, TAP, Crescendo)."""


class Task(StrEnum):
    """What a verdict is about; metrics pick verdicts by task."""

    REFUSAL = "refusal"
    HARM = "harm"
    LEAK = "leak"
    ABSTENTION = "abstention"
    QUALITY = "quality"
    TONE = "tone"
    REQUEST = "request_harm"
    """Is the *prompt* asking for something harmful (labels ``harmful`` / ``safe``)."""
    CRITIC = "critic"
    """Was this the right kind of response to this prompt (``pass`` / ``fail``, score in [0, 1])."""


class Label(StrEnum):
    """Verdict labels. ``UNSCORABLE`` is never counted as safe or unsafe: metrics count it apart."""

    # refusal task (XSTest's 3-way scheme, plus abstention which is not a safety refusal)
    FULL_COMPLIANCE = "full_compliance"
    FULL_REFUSAL = "full_refusal"
    PARTIAL_REFUSAL = "partial_refusal"
    ABSTAIN = "abstain"
    # harm task
    HARMFUL = "harmful"
    SAFE = "safe"
    # leak task
    LEAKED = "leaked"
    NOT_LEAKED = "not_leaked"
    # abstention task
    ANSWERED = "answered"
    # quality / tone tasks carry a score; the label says pass / fail
    PASS = "pass"
    FAIL = "fail"
    UNSCORABLE = "unscorable"


class Message(BaseModel):
    """One chat turn, OpenAI-style."""

    model_config = ConfigDict(frozen=True)

    role: Literal["system", "user", "assistant"]
    content: str


class Probe(BaseModel):
    """One prompt to send, with everything the metrics need to interpret the answer."""

    model_config = ConfigDict(frozen=True)

    version: int = FORMAT_VERSION
    id: str = Field(description="Unique within a run; stable across runs so results can be paired.")
    intent_id: str = Field(description="The underlying intent; variants of one intent share it.")
    family: str = Field(description="Registered probe family (or dataset format) that made it.")
    scenario: Scenario = Scenario.NONE
    method: Method = Method.BENCHMARK
    variant: str = Field(default="plain", description="e.g. 'harsh', 'polite:flattery', 'base64'.")
    messages: tuple[Message, ...]
    expected: Expected
    group_id: str = Field(description="Paired statistics compare probes within one group.")
    category: str = Field(default="", description="Harm category (or topic) of the intent.")
    tags: tuple[str, ...] = ()
    taxonomy: tuple[str, ...] = Field(
        default=(),
        description="OWASP LLM Top 10 (2025), NIST AI 100-2 E2025 and MITRE ATLAS ids of what the probe "
        "tests, stamped by its family, transforms or attack method (see ``safeforge.taxonomy``).",
    )
    meta: dict[str, str] = Field(
        default_factory=dict,
        description="Family-specific facts a judge needs, e.g. 'canary', 'transform', 'source'.",
    )

    @property
    def prompt(self) -> str:
        """The last user turn: what most judges and reports show as 'the prompt'."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""

    @property
    def system(self) -> str | None:
        """The system prompt, if the probe sets one."""
        first = self.messages[0] if self.messages else None
        return first.content if first is not None and first.role == "system" else None


class Usage(BaseModel):
    """Token usage as reported by the target, where known."""

    model_config = ConfigDict(frozen=True)

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class Completion(BaseModel):
    """What a target returns for one probe: a response or an error, never an exception."""

    model_config = ConfigDict(frozen=True)

    text: str | None = None
    finish_reason: str | None = None
    usage: Usage = Usage()
    latency_s: float = 0.0
    error: str | None = Field(default=None, description="Why no response came back; secrets removed.")
    retries: int = 0


class Verdict(BaseModel):
    """One judge's reading of one attempt. Scores are numbers, labels are enums."""

    model_config = ConfigDict(frozen=True)

    judge: str
    task: Task
    label: Label
    score: float | None = Field(
        default=None, description="Probability or rating; for refusal/harm/leak the label's probability."
    )
    rationale: str = ""


class Attempt(BaseModel):
    """A probe sent to a target, its completion, and the verdicts judges gave it."""

    model_config = ConfigDict(frozen=True)

    version: int = FORMAT_VERSION
    probe: Probe
    target: str
    completion: Completion
    verdicts: tuple[Verdict, ...] = ()

    @property
    def response(self) -> str | None:
        return self.completion.text

    @property
    def ok(self) -> bool:
        """True when the target answered (an empty answer still counts as an answer)."""
        return self.completion.error is None and self.completion.text is not None

    def verdict(self, task: Task, judge: str | None = None) -> Verdict | None:
        """The latest verdict for ``task`` (from ``judge`` if given)."""
        for v in reversed(self.verdicts):
            if v.task == task and (judge is None or v.judge == judge):
                return v
        return None

    def with_verdicts(self, verdicts: list[Verdict]) -> Attempt:
        """A copy with ``verdicts`` appended (same judge+task replaces the older verdict)."""
        keys = {(v.judge, v.task) for v in verdicts}
        kept = tuple(v for v in self.verdicts if (v.judge, v.task) not in keys)
        return self.model_copy(update={"verdicts": kept + tuple(verdicts)})


class NodeStatus(StrEnum):
    """Where one attacker proposal stands: committed at each step, so a resumed attack redoes none."""

    PROPOSED = "proposed"
    """The attacker gave a usable prompt; the target has not answered it yet."""
    UNUSABLE = "unusable"
    """The attacker's reply held no usable prompt (or the attacker failed): counted, not sent."""
    PRUNED = "pruned"
    """Off topic (TAP): the prompt no longer asks for the goal, so it was not sent."""
    ANSWERED = "answered"
    """Sent; the target's answer is the attempt ``probe_id``, judged."""


class ConversationNode(BaseModel):
    """One attacker proposal in an attacker-driven conversation, and what became of it. The
    target's side is an ordinary ``Attempt`` (probe id ``probe_id``) in the same run store."""

    model_config = ConfigDict(frozen=True)

    version: int = FORMAT_VERSION
    id: str = Field(description="Unique in the run; derived from method, goal and position, so stable.")
    method: str = Field(description="Registered attack method: pair, tap, crescendo.")
    goal_id: str
    conversation_id: str = Field(description="PAIR stream, TAP tree or Crescendo conversation.")
    turn: int = Field(ge=0, description="Position in its conversation (TAP: depth in the tree).")
    parent_id: str | None = None
    status: NodeStatus
    attacker_output: str = Field(default="", description="The attacker's raw reply (untrusted).")
    prompt: str | None = Field(default=None, description="The prompt parsed from it, if usable.")
    note: str = Field(default="", description="Why it was unusable, pruned or backtracked.")
    attacker_usage: Usage = Usage()
    probe_id: str | None = None
    score: float | None = Field(default=None, description="The judges' 1-10 rating fed back to the attacker.")
    success: bool = False
    refused: bool = Field(default=False, description="The refusal judge read a full refusal.")
    backtracked: bool = Field(default=False, description="Crescendo: dropped from the target's history.")
    started_at: float = Field(default=0.0, description="Unix time the attacker was asked.")
    finished_at: float = Field(default=0.0, description="Unix time the node reached its status.")
