"""Any Hugging Face sequence-classification reward model as a quality judge.

The model scores (prompt, response) -- or a whole conversation (``chat_scores``) -- through the
tokenizer's chat template when it has one, otherwise as the turns joined by blank lines
(``prompt + "\\n\\n" + response``). With one output logit the score is that logit;
with two it is the logit difference (class 1 minus class 0). The label is ``pass`` when the
score is at least ``threshold``. Only safetensors weights are loaded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from safeforge.errors import SafeforgeError, require
from safeforge.judges._base import no_response
from safeforge.records import Attempt, Label, Message, Task, Verdict


class RewardModelJudge:
    """Quality score from a reward model (``model``: a local path or hub id, hub offline-safe)."""

    task = Task.QUALITY

    def __init__(
        self,
        *,
        model: str,
        threshold: float = 0.0,
        batch_size: int = 8,
        max_tokens: int = 512,
        name: str = "reward_model",
    ) -> None:
        self.name = name
        self.threshold = threshold
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        transformers: Any = require("transformers", "hf")
        self._torch: Any = require("torch", "hf")
        try:
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(model)
            self.model = transformers.AutoModelForSequenceClassification.from_pretrained(
                model, use_safetensors=True
            ).eval()
        except (OSError, ValueError) as exc:
            raise SafeforgeError(f"cannot load reward model {model!r}: {exc}") from exc
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token or self.tokenizer.unk_token
        self.model.config.pad_token_id = self.tokenizer.pad_token_id

    def _text(self, messages: Sequence[Message]) -> str:
        turns = [{"role": m.role, "content": m.content} for m in messages]
        if getattr(self.tokenizer, "chat_template", None):
            text: str = self.tokenizer.apply_chat_template(turns, tokenize=False)
            return text
        return "\n\n".join(m.content for m in messages)

    def scores(self, prompts: Sequence[str], responses: Sequence[str]) -> list[float]:
        """One reward per (prompt, response)."""
        return self.chat_scores(
            [
                (Message(role="user", content=p), Message(role="assistant", content=r))
                for p, r in zip(prompts, responses, strict=True)
            ]
        )

    def chat_scores(self, chats: Sequence[Sequence[Message]]) -> list[float]:
        """One reward per whole conversation (the last turn is the response rated)."""
        out: list[float] = []
        for start in range(0, len(chats), self.batch_size):
            texts = [self._text(chat) for chat in chats[start : start + self.batch_size]]
            batch = self.tokenizer(
                texts, return_tensors="pt", padding=True, truncation=True, max_length=self.max_tokens
            )
            with self._torch.inference_mode():
                logits = self.model(**batch).logits.float()
            col = logits[:, 0] if logits.shape[1] == 1 else logits[:, 1] - logits[:, 0]
            out.extend(float(x) for x in col.tolist())
        return out

    async def judge_async(self, attempts: Sequence[Attempt]) -> list[Verdict]:
        ok = [i for i, a in enumerate(attempts) if a.ok]
        values = self.scores([attempts[i].probe.prompt for i in ok], [attempts[i].response or "" for i in ok])
        out = [no_response(self, a) for a in attempts]
        for i, s in zip(ok, values, strict=True):
            out[i] = Verdict(
                judge=self.name,
                task=self.task,
                label=Label.PASS if s >= self.threshold else Label.FAIL,
                score=s,
                rationale="reward model score",
            )
        return out
