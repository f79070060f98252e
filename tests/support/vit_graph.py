"""Build a ViT image encoder as an ONNX graph from Hugging Face `ViTModel`-style weights.

Test-only (never installed): tests and benchmarks need a vision model with the real input
and output names and shapes without a download. Like the BERT graph it is a plain fp32
graph (patches by a Conv, pre-LN blocks, final LayerNorm), so ONNX Runtime gives an image
the same output alone or batched.
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

INPUT_NAME = "pixel_values"
OUTPUT_NAME = "last_hidden_state"


@dataclass(frozen=True)
class VitConfig(AttentionHeads):
    """The subset of a Hugging Face ViT config that determines the encoder graph (ViT-B/16)."""

    image_size: int = 224
    patch_size: int = 16
    num_channels: int = 3
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    layer_norm_eps: float = 1e-12

    def __post_init__(self) -> None:
        if self.image_size % self.patch_size:
            raise ValueError(
                f"image_size {self.image_size} is not divisible by patch_size {self.patch_size}"
            )
        self.check_heads()

    @property
    def sequence_length(self) -> int:
        """The CLS token plus one token per patch."""
        return 1 + (self.image_size // self.patch_size) ** 2


def expected_weight_shapes(config: VitConfig) -> dict[str, tuple[int, ...]]:
    """Names and shapes of a HF `ViTModel` state dict (without pooler), as stored (out, in)."""
    h, i, p = config.hidden_size, config.intermediate_size, config.patch_size
    shapes: dict[str, tuple[int, ...]] = {
        "embeddings.cls_token": (1, 1, h),
        "embeddings.position_embeddings": (1, config.sequence_length, h),
        "embeddings.patch_embeddings.projection.weight": (h, config.num_channels, p, p),
        "embeddings.patch_embeddings.projection.bias": (h,),
    }
    for n in range(config.num_hidden_layers):
        prefix = f"encoder.layer.{n}."
        dense = {
            "attention.attention.query": (h, h),
            "attention.attention.key": (h, h),
            "attention.attention.value": (h, h),
            "attention.output.dense": (h, h),
            "intermediate.dense": (i, h),
            "output.dense": (h, i),
        }
        for name, shape in dense.items():
            shapes[f"{prefix}{name}.weight"] = shape
            shapes[f"{prefix}{name}.bias"] = (shape[0],)
        for norm in ("layernorm_before", "layernorm_after"):
            shapes[f"{prefix}{norm}.weight"] = (h,)
            shapes[f"{prefix}{norm}.bias"] = (h,)
    shapes["layernorm.weight"] = (h,)
    shapes["layernorm.bias"] = (h,)
    return shapes


def _embeddings(b: GraphBuilder, config: VitConfig) -> str:
    """Patches by a strided Conv, flattened to tokens; CLS prepended; positions added."""
    p, h = config.patch_size, config.hidden_size
    prefix = "embeddings.patch_embeddings.projection"
    grid = b.op(
        "Conv",
        INPUT_NAME,
        b.weight(f"{prefix}.weight"),
        b.weight(f"{prefix}.bias"),
        kernel_shape=[p, p],
        strides=[p, p],
    )
    flat = b.op("Reshape", grid, b.const("patches_shape", np.array([0, h, -1], dtype=np.int64)))
    patches = b.op("Transpose", flat, perm=[0, 2, 1])
    batch = b.op(
        "Slice",
        b.op("Shape", INPUT_NAME),
        b.const("zero_i64", np.array([0], dtype=np.int64)),
        b.const("one_i64", np.array([1], dtype=np.int64)),
    )
    cls_shape = b.op("Concat", batch, b.const("cls_dims", np.array([1, h], dtype=np.int64)), axis=0)
    cls = b.op("Expand", b.weight("embeddings.cls_token"), cls_shape)
    tokens = b.op("Concat", cls, patches, axis=1)
    return b.op("Add", tokens, b.weight("embeddings.position_embeddings"))


def _layer(b: GraphBuilder, x: str, prefix: str, config: VitConfig) -> str:
    """Pre-LN block: x + attention(LN(x)), then x + MLP(LN(x)) with exact GELU."""
    eps = config.layer_norm_eps
    names = [f"{prefix}.attention.attention.{name}" for name in ("query", "key", "value")]
    normed = b.layer_norm(x, f"{prefix}.layernorm_before", eps)
    attended = b.linear(attention(b, normed, names, None), f"{prefix}.attention.output.dense")
    x = b.op("Add", attended, x)
    normed = b.layer_norm(x, f"{prefix}.layernorm_after", eps)
    hidden = gelu(b, b.linear(normed, f"{prefix}.intermediate.dense"))
    return b.op("Add", b.linear(hidden, f"{prefix}.output.dense"), x)


def build_vit_model(weights: Mapping[str, np.ndarray], config: VitConfig) -> onnx.ModelProto:
    """Return an fp32 ONNX `ViTModel` encoder: `pixel_values` -> `last_hidden_state`."""
    b = GraphBuilder(require_weights(weights, expected_weight_shapes(config), "ViT"))
    add_encoder_constants(b, config.num_attention_heads, config.head_dim)
    hidden = _embeddings(b, config)
    for n in range(config.num_hidden_layers):
        hidden = _layer(b, hidden, f"encoder.layer.{n}", config)
    hidden = b.layer_norm(hidden, "layernorm", config.layer_norm_eps)

    side = config.image_size
    input_dims = [BATCH_DIM, config.num_channels, side, side]
    pixels = helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, input_dims)
    output_dims = [BATCH_DIM, config.sequence_length, config.hidden_size]
    output = helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, output_dims)
    return finish_model(
        b, [pixels], hidden, output, graph_name="vit_encoder", producer="nomic_serve.vit_graph"
    )
