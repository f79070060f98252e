"""Build a BERT encoder as an ONNX graph straight from Hugging Face weights.

Writing the graph by hand (instead of exporting through torch) keeps torch out of the
project while still producing a plain fp32 graph that ONNX Runtime runs bit-identically
alone or batched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper

from nomic_serve.models.onnx_builder import (
    BATCH_DIM,
    AttentionHeads,
    GraphBuilder,
    add_encoder_constants,
    attention,
    finish_model,
    gelu,
    require_weights,
)

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT_NAME = "last_hidden_state"
SEQUENCE_DIM = "sequence"

# HF masks with finfo(float32).min; anything that large makes masked softmax weights exactly 0,
# which is what keeps padded and unpadded runs identical on valid tokens.
_MASK_VALUE = float(np.finfo(np.float32).min)
_IGNORED_PREFIXES = ("pooler.",)
_IGNORED_NAMES = ("embeddings.position_ids",)


@dataclass(frozen=True)
class BertConfig(AttentionHeads):
    """The subset of a Hugging Face BERT config that determines the encoder graph."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int
    type_vocab_size: int
    layer_norm_eps: float

    def __post_init__(self) -> None:
        self.check_heads()

    @classmethod
    def from_hf_config(cls, d: Mapping) -> BertConfig:
        """Read a HF `config.json` dict, refusing variants this graph would silently get wrong."""
        if d.get("hidden_act") != "gelu":
            raise ValueError(f"unsupported hidden_act {d.get('hidden_act')!r}; only 'gelu' (erf)")
        position_type = d.get("position_embedding_type", "absolute")
        if position_type != "absolute":
            raise ValueError(f"unsupported position_embedding_type {position_type!r}")
        return cls(
            vocab_size=int(d["vocab_size"]),
            hidden_size=int(d["hidden_size"]),
            num_hidden_layers=int(d["num_hidden_layers"]),
            num_attention_heads=int(d["num_attention_heads"]),
            intermediate_size=int(d["intermediate_size"]),
            max_position_embeddings=int(d["max_position_embeddings"]),
            type_vocab_size=int(d["type_vocab_size"]),
            layer_norm_eps=float(d["layer_norm_eps"]),
        )


def expected_weight_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a HF `BertModel` state dict (without pooler), as stored (out, in)."""
    h, i = config.hidden_size, config.intermediate_size
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.word_embeddings.weight": (config.vocab_size, h),
        "embeddings.position_embeddings.weight": (config.max_position_embeddings, h),
        "embeddings.token_type_embeddings.weight": (config.type_vocab_size, h),
        "embeddings.LayerNorm.weight": (h,),
        "embeddings.LayerNorm.bias": (h,),
    }
    for n in range(config.num_hidden_layers):
        p = f"encoder.layer.{n}."
        for name in ("query", "key", "value"):
            shapes[f"{p}attention.self.{name}.weight"] = (h, h)
            shapes[f"{p}attention.self.{name}.bias"] = (h,)
        shapes[f"{p}attention.output.dense.weight"] = (h, h)
        shapes[f"{p}attention.output.dense.bias"] = (h,)
        shapes[f"{p}attention.output.LayerNorm.weight"] = (h,)
        shapes[f"{p}attention.output.LayerNorm.bias"] = (h,)
        shapes[f"{p}intermediate.dense.weight"] = (i, h)
        shapes[f"{p}intermediate.dense.bias"] = (i,)
        shapes[f"{p}output.dense.weight"] = (h, i)
        shapes[f"{p}output.dense.bias"] = (h,)
        shapes[f"{p}output.LayerNorm.weight"] = (h,)
        shapes[f"{p}output.LayerNorm.bias"] = (h,)
    return shapes


def _normalize_weights(
    weights: Mapping[str, np.ndarray], config: BertConfig
) -> dict[str, np.ndarray]:
    """Strip the optional `bert.` prefix, drop unused tensors, and fail early on a mismatch."""
    found: dict[str, np.ndarray] = {}
    for name, value in weights.items():
        name = name.removeprefix("bert.")
        if name.startswith(_IGNORED_PREFIXES) or name in _IGNORED_NAMES:
            continue
        found[name] = value
    return require_weights(found, expected_weight_shapes(config), "BERT")


def _embeddings(b: GraphBuilder, config: BertConfig) -> str:
    """Word + position + token-type embeddings; positions are 0..seq-1 sliced from the table."""
    seq_len = b.op(
        "Slice",
        b.op("Shape", "input_ids"),
        b.const("one_i64", np.array([1], dtype=np.int64)),
        b.const("two_i64", np.array([2], dtype=np.int64)),
    )
    positions = b.op(
        "Slice",
        b.weight("embeddings.position_embeddings.weight"),
        b.const("zero_i64", np.array([0], dtype=np.int64)),
        seq_len,
        b.const("axis0_i64", np.array([0], dtype=np.int64)),
    )
    words = b.op("Gather", b.weight("embeddings.word_embeddings.weight"), "input_ids")
    types = b.op("Gather", b.weight("embeddings.token_type_embeddings.weight"), "token_type_ids")
    summed = b.op("Add", b.op("Add", words, positions), types)
    return b.layer_norm(summed, "embeddings.LayerNorm", config.layer_norm_eps)


def _additive_mask(b: GraphBuilder) -> str:
    """(1 - mask) * min_float as [batch, 1, 1, sequence], shared by every layer."""
    mask = b.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    inverted = b.op("Sub", "one_f32", mask)
    scaled = b.op("Mul", inverted, b.const("mask_value", np.array(_MASK_VALUE, dtype=np.float32)))
    return b.op("Unsqueeze", scaled, b.const("mask_axes", np.array([1, 2], dtype=np.int64)))


def _self_attention(b: GraphBuilder, x: str, mask: str, prefix: str, config: BertConfig) -> str:
    """Multi-head attention, then output projection, residual and LayerNorm (post-LN)."""
    names = [f"{prefix}.self.{name}" for name in ("query", "key", "value")]
    out = b.linear(attention(b, x, names, mask), f"{prefix}.output.dense")
    return b.layer_norm(b.op("Add", out, x), f"{prefix}.output.LayerNorm", config.layer_norm_eps)


def _feed_forward(b: GraphBuilder, x: str, prefix: str, config: BertConfig) -> str:
    """Intermediate dense + exact (erf) GELU + output dense, residual and LayerNorm."""
    h = gelu(b, b.linear(x, f"{prefix}.intermediate.dense"))
    out = b.linear(h, f"{prefix}.output.dense")
    return b.layer_norm(b.op("Add", out, x), f"{prefix}.output.LayerNorm", config.layer_norm_eps)


def build_bert_model(weights: Mapping[str, np.ndarray], config: BertConfig) -> onnx.ModelProto:
    """Return an fp32 ONNX `BertModel` encoder producing `last_hidden_state`."""
    b = GraphBuilder(_normalize_weights(weights, config))
    add_encoder_constants(b, config.num_attention_heads, config.head_dim)
    hidden = _embeddings(b, config)
    mask = _additive_mask(b)
    for n in range(config.num_hidden_layers):
        prefix = f"encoder.layer.{n}"
        hidden = _self_attention(b, hidden, mask, f"{prefix}.attention", config)
        hidden = _feed_forward(b, hidden, prefix, config)

    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, [BATCH_DIM, SEQUENCE_DIM])
        for name in INPUT_NAMES
    ]
    output_dims: list[str | int | None] = [BATCH_DIM, SEQUENCE_DIM, config.hidden_size]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, output_dims)
    return finish_model(
        b, inputs, hidden, output, graph_name="bert_encoder", producer="nomic_serve.bert_graph"
    )
