"""Tiny causal language models and an offline tokenizer, built from configs.

Tests, the demo and the benchmarks need real transformers models without any download. This
module trains a byte-level BPE tokenizer on a given corpus with ``tokenizers`` (seconds, no
network), gives it a chat template that TRL can train on (``{% generation %}`` markers, so
``assistant_only_loss`` works) and that carries an optional system turn, and builds small
randomly-initialised causal LMs in two architectures (GPT-2 and Qwen2) saved as safetensors.
Everything loads back with ``AutoTokenizer`` / ``AutoModelForCausalLM.from_pretrained(dir)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from safeforge.errors import require

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

Arch = Literal["gpt2", "qwen2"]
ARCHS: tuple[Arch, ...] = ("gpt2", "qwen2")

PAD = "<|pad|>"
EOS = "<|endoftext|>"
END_OF_TURN = "<|end|>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, EOS, *ROLE_TOKENS, END_OF_TURN)

CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "<|assistant|>{% generation %}{{ message['content'] }}<|end|>{% endgeneration %}"
    "{% else %}<|{{ message['role'] }}|>{{ message['content'] }}<|end|>{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
"""Turns are ``<|role|>text<|end|>``; only assistant text sits inside the generation markers,
so TRL's assistant-only loss masks the system and user turns."""

DEMO_CORPUS: tuple[str, ...] = (
    "How do I bake bread at home?",
    "Mix flour, water, salt and yeast, let it rise, then bake it until golden.",
    "I can't help with that request, but I can point you to safety resources.",
    "Sure, here is how: [redacted demo content]",
    "What is the capital of France? The capital of France is Paris.",
    "Please explain how photosynthesis works in simple words.",
    "Plants turn sunlight, water and carbon dioxide into sugar and oxygen.",
    "You are a helpful assistant. Answer briefly and politely.",
    "I'm sorry, I cannot assist with harmful or dangerous activities.",
    "Could you kindly tell me a story about a brave little robot?",
    "I don't know the answer to that; I could not find reliable information.",
    "Thank you! Here is a short summary of the main points.",
)
"""A few sentences in the demo's register: enough to train a usable tokenizer in well under
a second for test fixtures (real callers pass their own corpus)."""


def build_tiny_tokenizer(
    corpus: Iterable[str], out_dir: Path, *, vocab_size: int = 2000, min_frequency: int = 1
) -> PreTrainedTokenizerBase:
    """Train a byte-level BPE tokenizer on ``corpus`` and save it (with chat template) to ``out_dir``.

    Byte-level means any input string tokenizes (no unknown token), which matters because probes
    carry obfuscated text (homoglyphs, zero-width characters, base64). The eos token doubles as
    bos; padding uses its own ``<|pad|>`` token so padded positions never look like an end.
    """
    tokenizers = require("tokenizers", "hf")
    transformers = require("transformers", "hf")
    backend = tokenizers.Tokenizer(tokenizers.models.BPE())
    backend.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator((line for line in corpus), trainer=trainer)
    tok = transformers.PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=EOS,
        bos_token=EOS,
        unk_token=None,
        additional_special_tokens=[*ROLE_TOKENS, END_OF_TURN],
        model_max_length=1024,
    )
    tok.chat_template = CHAT_TEMPLATE
    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(str(out_dir))
    return tok  # type: ignore[no-any-return]


def _config(arch: Arch, tok: PreTrainedTokenizerBase, size: dict[str, int]) -> Any:
    transformers = require("transformers", "hf")
    ids: dict[str, Any] = {
        "vocab_size": len(tok),
        "bos_token_id": tok.bos_token_id,
        "eos_token_id": tok.eos_token_id,
        "pad_token_id": tok.pad_token_id,
    }
    hidden, layers, heads = size["hidden_size"], size["num_layers"], size["num_heads"]
    if arch == "gpt2":
        return transformers.GPT2Config(
            n_layer=layers, n_embd=hidden, n_head=heads, n_positions=size["max_positions"], **ids
        )
    return transformers.Qwen2Config(
        hidden_size=hidden,
        intermediate_size=2 * hidden,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=max(1, heads // 2),
        max_position_embeddings=size["max_positions"],
        tie_word_embeddings=True,
        **ids,
    )


def build_tiny_model(
    arch: Arch,
    tokenizer: PreTrainedTokenizerBase,
    out_dir: Path,
    *,
    hidden_size: int = 64,
    num_layers: int = 2,
    num_heads: int = 4,
    max_positions: int = 512,
    initializer_range: float = 0.02,
    seed: int = 0,
) -> Path:
    """Build a randomly initialised causal LM of ``arch`` for ``tokenizer``; save model + tokenizer.

    A larger ``initializer_range`` (e.g. 0.5) gives an untrained model peaked, prompt-dependent
    next-token distributions: varied text instead of one repeated token, and greedy decoding
    that float rounding cannot flip, which is what generation tests want.
    The generation config stops at both ``<|endoftext|>`` and the chat end-of-turn token, so a
    chat reply ends where the template says a turn ends instead of running to the token cap.
    Returns ``out_dir``, which ``from_pretrained`` (and the ``hf:`` target) loads offline.
    """
    if arch not in ARCHS:
        raise ValueError(f"unknown tiny architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    torch = require("torch", "hf")
    transformers = require("transformers", "hf")
    size = {
        "hidden_size": hidden_size,
        "num_layers": num_layers,
        "num_heads": num_heads,
        "max_positions": max_positions,
    }
    config = _config(arch, tokenizer, size)
    config.initializer_range = initializer_range
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_config(config)
    end_id = tokenizer.convert_tokens_to_ids(END_OF_TURN)
    gen = model.generation_config
    gen.pad_token_id = tokenizer.pad_token_id
    gen.bos_token_id = tokenizer.bos_token_id
    gen.eos_token_id = [tokenizer.eos_token_id, end_id] if isinstance(end_id, int) else tokenizer.eos_token_id
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out_dir), safe_serialization=True)
    tokenizer.save_pretrained(str(out_dir))
    return out_dir
