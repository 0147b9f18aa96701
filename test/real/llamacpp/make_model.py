"""Writes a tiny random-weight llama-architecture GGUF for the real-upstream test tier.

Usage: make_model.py <vocab.gguf> <out.gguf>

The tokenizer (tokens, scores, types, special ids) and the chat template are copied from a vocab-only GGUF shipped
with the llama.cpp sources; the weights are seeded normal noise, so the model loads in well under a second and
writes gibberish. Only normal tokens can be sampled: the output rows of control, byte and other special tokens are
zero while the others give logits of standard deviation ~8, so end-of-generation tokens never make the top-k and
answers last exactly `max_tokens` (or until a stop string or the context ends). Same inputs and seed, same file.
"""

import sys

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter

SEED = 14
N_LAYER = 2
N_EMBD = 64
N_HEAD = 4
N_FF = 256
N_CTX = 16384
NAME = "switchyard-tiny-llama"
TOKEN_TYPE_NORMAL = 1


def field_value(reader: GGUFReader, key: str):
    """The scalar, string or array value of one metadata field, or None when absent."""
    field = reader.fields.get(key)
    if field is None:
        return None
    kind = field.types[0]
    if kind == GGUFValueType.ARRAY:
        item = field.types[1]
        if item == GGUFValueType.STRING:
            return [bytes(field.parts[i]).decode("utf-8") for i in field.data]
        return [field.parts[i].tolist()[0] for i in field.data]
    if kind == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]).decode("utf-8")
    return field.parts[field.data[0]].tolist()[0]


def main(vocab_path: str, out_path: str) -> None:
    vocab = GGUFReader(vocab_path)
    tokens = field_value(vocab, "tokenizer.ggml.tokens")
    scores = field_value(vocab, "tokenizer.ggml.scores")
    types = field_value(vocab, "tokenizer.ggml.token_type")
    template = field_value(vocab, "tokenizer.chat_template")
    if not tokens or template is None:
        raise SystemExit(f"{vocab_path} has no tokenizer or no chat template")
    n_vocab = len(tokens)

    w = GGUFWriter(out_path, "llama")
    w.add_name(NAME)
    w.add_context_length(N_CTX)
    w.add_embedding_length(N_EMBD)
    w.add_block_count(N_LAYER)
    w.add_feed_forward_length(N_FF)
    w.add_head_count(N_HEAD)
    w.add_head_count_kv(N_HEAD)
    w.add_rope_dimension_count(N_EMBD // N_HEAD)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(0)  # all F32

    w.add_tokenizer_model(field_value(vocab, "tokenizer.ggml.model"))
    pre = field_value(vocab, "tokenizer.ggml.pre")
    if pre is not None:
        w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    if scores is not None:
        w.add_token_scores(scores)
    if types is not None:
        w.add_token_types(types)
    for key, add in (
        ("tokenizer.ggml.bos_token_id", w.add_bos_token_id),
        ("tokenizer.ggml.eos_token_id", w.add_eos_token_id),
        ("tokenizer.ggml.unknown_token_id", w.add_unk_token_id),
        ("tokenizer.ggml.padding_token_id", w.add_pad_token_id),
        ("tokenizer.ggml.add_bos_token", w.add_add_bos_token),
        ("tokenizer.ggml.add_eos_token", w.add_add_eos_token),
    ):
        value = field_value(vocab, key)
        if value is not None:
            add(value)
    w.add_chat_template(template)

    rng = np.random.default_rng(SEED)

    def noise(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape, dtype=np.float32) * 0.02).astype(np.float32)

    ones = np.ones(N_EMBD, dtype=np.float32)
    w.add_tensor("token_embd.weight", noise(n_vocab, N_EMBD))
    for i in range(N_LAYER):
        b = f"blk.{i}"
        w.add_tensor(f"{b}.attn_norm.weight", ones)
        w.add_tensor(f"{b}.attn_q.weight", noise(N_EMBD, N_EMBD))
        w.add_tensor(f"{b}.attn_k.weight", noise(N_EMBD, N_EMBD))
        w.add_tensor(f"{b}.attn_v.weight", noise(N_EMBD, N_EMBD))
        w.add_tensor(f"{b}.attn_output.weight", noise(N_EMBD, N_EMBD))
        w.add_tensor(f"{b}.ffn_norm.weight", ones)
        w.add_tensor(f"{b}.ffn_gate.weight", noise(N_FF, N_EMBD))
        w.add_tensor(f"{b}.ffn_up.weight", noise(N_FF, N_EMBD))
        w.add_tensor(f"{b}.ffn_down.weight", noise(N_EMBD, N_FF))
    w.add_tensor("output_norm.weight", ones)
    output = rng.standard_normal((n_vocab, N_EMBD), dtype=np.float32)
    if types is not None:
        output[np.asarray(types) != TOKEN_TYPE_NORMAL] = 0.0
    w.add_tensor("output.weight", output)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
