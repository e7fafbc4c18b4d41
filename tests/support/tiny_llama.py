"""A tiny random-weight Llama model in GGUF, written on the spot for tests.

llama.cpp (and so ``llama_cpp.server``) loads it like any real checkpoint: a llama
architecture (2 layers, width 64, 4 heads), a byte-level BPE tokenizer of the GPT-2 kind
(every one of the 256 bytes is a token, plus a few merges, ``<s>`` and ``</s>``) and a chat
template in the metadata. Any UTF-8 text can be tokenised and generated, so a JSON grammar
can always be satisfied. Nothing is downloaded; the file is about 0.5 MB and the same seed
always gives the same bytes.

The weights are random, shaped in two ways so that replies behave like a model's:

- a constant channel in the residual stream acts as a fixed per-token logit bias: ``</s>``
  and the JSON closers (``"``, ``]``, ``}``) are favoured and bytes outside printable ASCII
  are all but ruled out;
- the output matrix leans away from the current token's embedding, against greedy loops.

With them a plain reply stops on its own after a few to a few dozen tokens and a
grammar-constrained JSON reply closes well within 200 tokens. Without them
(``shaped=False``) a reply almost never stops before ``max_tokens``, JSON replies are cut
off mid-string, and the random bytes (invalid UTF-8) make llama-cpp-python overrun
``max_tokens`` until the context is full (HTTP 500 ``llama_decode returned 1``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

BOS, EOS = "<s>", "</s>"
N_LAYERS, N_EMBD, N_HEADS, N_FF = 2, 64, 4, 128
CONTEXT_LENGTH = 4096

# Merges on top of the byte vocabulary (in the GPT-2 byte-to-unicode spelling, where "Ġ" is
# a space). A handful is enough to exercise the BPE path; llama.cpp refuses a BPE
# vocabulary without any merges.
MERGES = (
    ("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("e", "r"), ("o", "n"), ("Ġ", "a"),
    ("r", "e"), ("Ġ", "s"), ("e", "s"), ("a", "n"), ("Ġ", "c"), ('"', ":"), ('"', ","),
)

# A zephyr-style template that uses the model's own special tokens, so a server can format
# chats from the GGUF metadata alone and stops at </s>.
CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "<|{{ message['role'] }}|>\n{{ message['content'] }}{{ eos_token }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)

# The logit bias the constant channel adds (in logits; the random part of a logit has a
# standard deviation of about RANDOM_LOGIT_STD). Tuned so that plain replies stop after a
# few dozen tokens and JSON strings close after a few characters.
RANDOM_LOGIT_STD = 4.0
STOP_BIAS = {EOS: 12.5, '"': 8.0, "]": 4.0, "}": 4.0}
# Bytes that are not printable ASCII (nor a newline) are all but never chosen unless a grammar
# forces them: random bytes >= 0x80 are invalid UTF-8, which llama-cpp-python holds back
# while waiting for the rest of the character, and then overruns max_tokens.
NON_ASCII_BIAS = -30.0
# The output matrix leans away from the current token's own embedding, so that greedy
# decoding does not settle on one token repeated for ever ("4444...").
SELF_AVOIDANCE = 0.5
CHANNEL = 4.0  # value of the constant channel in every token embedding
CHANNEL_GAIN = 2.6  # measured: logit change per unit of output weight on the channel


def byte_tokens() -> list[str]:
    """The 256 byte tokens in GPT-2's byte-to-unicode spelling, in byte order."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    mapping: dict[int, str] = {b: chr(b) for b in printable}
    shift = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shift)
            shift += 1
    return [mapping[b] for b in range(256)]


def vocabulary() -> list[str]:
    """Every token, by id: ``<s>``, ``</s>``, the 256 bytes, then one token per merge."""
    return [BOS, EOS, *byte_tokens(), *(left + right for left, right in MERGES)]


def logit_bias(tokens: list[str]) -> np.ndarray:
    """The per-token bias (in logits) built into the model: see the module docstring."""
    bias = np.zeros(len(tokens), dtype=np.float32)
    printable = {chr(c) for c in range(0x21, 0x7F)} | {byte_tokens()[0x20], byte_tokens()[0x0A]}
    for i, token in enumerate(byte_tokens(), start=2):
        if token not in printable:
            bias[i] = NON_ASCII_BIAS
    for i, token in enumerate(tokens):
        bias[i] += STOP_BIAS.get(token, 0.0)
    return bias


def write_tiny_llama_gguf(path: Path, *, seed: int = 0, shaped: bool = True) -> Path:
    """Write the tiny model to ``path`` and return ``path``.

    ``shaped=False`` leaves out the built-in logit bias: plain random weights, which seldom
    stop before ``max_tokens`` and emit invalid UTF-8.
    """
    import gguf

    tokens = vocabulary()
    n_vocab = len(tokens)
    head_dim = N_EMBD // N_HEADS
    rng = np.random.default_rng(seed)

    def weight(*shape: int, scale: float = 1.0) -> np.ndarray:
        # numpy shape is (out, in); gguf-py writes it reversed, as llama.cpp expects.
        fan_in = shape[-1]
        return (rng.standard_normal(shape) * scale / np.sqrt(fan_in)).astype(np.float32)

    # Channel 0 of the residual stream is the same constant for every token and no layer
    # writes to it (its rows in attn_output and ffn_down are zero), so column 0 of the
    # output matrix is a fixed per-token bias on the logits.
    embeddings = (rng.standard_normal((n_vocab, N_EMBD)) * 0.5).astype(np.float32)
    embeddings[:, 0] = CHANNEL
    output = weight(n_vocab, N_EMBD, scale=RANDOM_LOGIT_STD)
    output[:, 0] = 0.0
    if shaped:
        output[:, 0] = logit_bias(tokens) / CHANNEL_GAIN
        output[:, 1:] -= SELF_AVOIDANCE * embeddings[:, 1:]
    index = {token: i for i, token in enumerate(tokens)}

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name(f"ddq-tiny-llama-seed{seed}")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(CONTEXT_LENGTH)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYERS)
    writer.add_feed_forward_length(N_FF)
    writer.add_head_count(N_HEADS)
    writer.add_head_count_kv(N_HEADS)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    # Used only when the server runs with --embedding true: one mean-pooled vector per input
    # (without it llama_cpp returns one vector per token, which is not the OpenAI shape).
    writer.add_pooling_type(gguf.PoolingType.MEAN)

    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("gpt-2")
    writer.add_token_list(tokens)
    writer.add_token_types(
        [gguf.TokenType.CONTROL] * 2 + [gguf.TokenType.NORMAL] * (n_vocab - 2)
    )
    writer.add_token_merges([f"{left} {right}" for left, right in MERGES])
    writer.add_bos_token_id(index[BOS])
    writer.add_eos_token_id(index[EOS])
    writer.add_pad_token_id(index[EOS])
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHAT_TEMPLATE)

    writer.add_tensor("token_embd.weight", embeddings)
    writer.add_tensor("output_norm.weight", np.ones(N_EMBD, dtype=np.float32))
    writer.add_tensor("output.weight", output)
    for layer in range(N_LAYERS):
        attn_output = weight(N_EMBD, N_EMBD)
        attn_output[0, :] = 0.0
        ffn_down = weight(N_EMBD, N_FF)
        ffn_down[0, :] = 0.0
        blk = f"blk.{layer}"
        writer.add_tensor(f"{blk}.attn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{blk}.attn_q.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"{blk}.attn_k.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"{blk}.attn_v.weight", weight(N_EMBD, N_EMBD))
        writer.add_tensor(f"{blk}.attn_output.weight", attn_output)
        writer.add_tensor(f"{blk}.ffn_norm.weight", np.ones(N_EMBD, dtype=np.float32))
        writer.add_tensor(f"{blk}.ffn_gate.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{blk}.ffn_up.weight", weight(N_FF, N_EMBD))
        writer.add_tensor(f"{blk}.ffn_down.weight", ffn_down)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
