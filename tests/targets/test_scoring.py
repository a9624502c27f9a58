"""Continuation scoring against independent references: generate()'s own logits (a KV-cached,
left-padded path), the normalisation of a full next-token distribution, and batch invariance."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest

transformers = pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from safeforge.errors import SafeforgeError  # noqa: E402
from safeforge.models import ARCHS  # noqa: E402
from safeforge.targets.scoring import ChatScorer, normalise  # noqa: E402

CHATS = [
    [{"role": "user", "content": "How do I bake bread at home?"}],
    [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "What is the capital of France?"},
    ],
    [{"role": "user", "content": "ok"}],
]


def _forced_logprobs(scorer: ChatScorer, chat: list[dict[str, str]], tokens: list[int]) -> list[float]:
    """Log-probs of ``tokens`` as generate() computes them: step by step with a KV cache, the
    tokens forced through ``prefix_allowed_tokens_fn``, read from the raw (unprocessed) logits."""
    model, tok = scorer._model, scorer._tok
    ids = torch.tensor([scorer.prompt_ids(chat)])
    start = ids.shape[1]
    out = model.generate(
        input_ids=ids,
        attention_mask=torch.ones_like(ids),
        max_new_tokens=len(tokens),
        min_new_tokens=len(tokens),
        do_sample=False,
        prefix_allowed_tokens_fn=lambda _b, seq: [tokens[len(seq) - start]],
        output_logits=True,
        return_dict_in_generate=True,
        pad_token_id=tok.pad_token_id,
    )
    assert out.sequences[0, start:].tolist() == tokens
    return [
        float(torch.log_softmax(step[0].float(), -1)[t]) for step, t in zip(out.logits, tokens, strict=True)
    ]


CONTINUATIONS = ["Mix flour and water, then bake.", "Paris.", "I can't help with that request."]


@pytest.mark.parametrize("arch", ARCHS)
def test_logprobs_match_generate_and_batching_is_invisible(
    arch: str, tiny_model_dirs: dict[str, Path]
) -> None:
    scorer = ChatScorer.load(f"hf:{tiny_model_dirs[arch]}", batch_size=3)
    tok = scorer._tok
    batched = scorer.score(CHATS, CONTINUATIONS)
    for chat, text, got in zip(CHATS, CONTINUATIONS, batched, strict=True):
        tokens = tok(text, add_special_tokens=False)["input_ids"]
        assert list(got.tokens) == tokens
        ref = _forced_logprobs(scorer, chat, tokens)
        assert got.logprobs == pytest.approx(ref, abs=1e-4)
        assert got.total == pytest.approx(sum(ref), abs=1e-3)
        assert all(0.0 <= e <= math.log(len(tok)) + 1e-6 for e in got.entropies)
    one = ChatScorer(scorer._model, tok, batch_size=1).score(CHATS, CONTINUATIONS)
    for a, b in zip(batched, one, strict=True):
        assert a.logprobs == pytest.approx(b.logprobs, abs=1e-5)
        assert a.entropies == pytest.approx(b.entropies, abs=1e-5)


def test_single_token_options_are_disjoint_events(tiny_model_dirs: dict[str, Path]) -> None:
    scorer = ChatScorer.load(tiny_model_dirs["gpt2"], batch_size=64)
    tok = scorer._tok
    # every vocabulary entry that is a whole token as text (byte fragments are not): as one-token
    # answers they are disjoint events, so their probabilities sum to at most one
    options = [tok.decode([i]) for i in range(len(tok))]
    singles = [o for i, o in enumerate(options) if tok(o, add_special_tokens=False)["input_ids"] == [i]]
    (logps,) = scorer.option_logprobs(CHATS[:1], singles)
    mass = sum(math.exp(x) for x in logps)
    assert 0.0 < mass <= 1.0 + 1e-4
    probs = normalise(logps[:2])
    assert sum(probs) == pytest.approx(1.0)
    assert probs[0] / probs[1] == pytest.approx(math.exp(logps[0] - logps[1]), rel=1e-6)


def test_long_prompts_are_cut_from_the_left(tiny_model_dirs: dict[str, Path], tmp_path: Path) -> None:
    scorer = ChatScorer.load(tiny_model_dirs["qwen2"])
    chat = [{"role": "user", "content": "bread " * 2000}]
    (scored,) = scorer.score([chat], ["Paris"])
    assert scored.truncated
    assert len(scored.logprobs) == len(scored.tokens) > 0
    assert scorer.score([CHATS[0]], [""])[0].total == 0.0


def test_a_model_without_chat_template_scores_in_plain_format(
    tiny_model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    shutil.copytree(tiny_model_dirs["gpt2"], plain)
    tok = transformers.AutoTokenizer.from_pretrained(plain)
    tok.chat_template = None
    model = transformers.AutoModelForCausalLM.from_pretrained(plain)
    scorer = ChatScorer(model, tok)
    assert tok.decode(scorer.prompt_ids(CHATS[0])).endswith("Assistant:")
    assert len(scorer.score(CHATS[:1], [" Paris"])[0].logprobs) >= 1


def test_only_local_models_can_be_scored() -> None:
    with pytest.raises(SafeforgeError, match="local model"):
        ChatScorer.load("openai:gpt-x")
