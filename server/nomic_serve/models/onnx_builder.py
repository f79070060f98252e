"""Pieces of the hand-built encoder graphs: the embedded BERT here, the test ViT in tests/.

Both are plain fp32 transformer encoders. Building their attention and GELU from the same
few ops (MatMul, Softmax, Erf, LayerNormalization) is what lets ONNX Runtime run them
identically alone or batched, and keeps torch out of the project.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

OPSET = 17
IR_VERSION = 10  # opset 17 needs IR >= 8; 10 is accepted by every ONNX Runtime we target
BATCH_DIM = "batch"


class AttentionHeads:
    """`hidden_size` split over `num_attention_heads`: shared by the encoder configs."""

    hidden_size: int
    num_attention_heads: int

    def check_heads(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not divisible by "
                f"num_attention_heads {self.num_attention_heads}"
            )

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads


class GraphBuilder:
    """Collects nodes and initializers so the sub-block helpers read like the math."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        """Append a single-output node and return the name of its output."""
        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=out, **attrs))
        return out

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name=name))
        return name

    def weight(self, name: str) -> str:
        return self.const(name, self.weights[name])

    def linear(self, x: str, prefix: str) -> str:
        """HF Linear: y = x W^T + b, so the MatMul initializer is the stored weight transposed."""
        w = self.const(
            f"{prefix}.weight_t", np.ascontiguousarray(self.weights[f"{prefix}.weight"].T)
        )
        return self.op("Add", self.op("MatMul", x, w), self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        return self.op(
            "LayerNormalization",
            x,
            self.weight(f"{prefix}.weight"),
            self.weight(f"{prefix}.bias"),
            axis=-1,
            epsilon=eps,
        )


def require_weights(
    found: Mapping[str, np.ndarray], expected: Mapping[str, tuple[int, ...]], model: str
) -> dict[str, np.ndarray]:
    """The expected tensors as float32, in order; fails early on a missing or misshaped one."""
    missing = sorted(expected.keys() - found.keys())
    if missing:
        raise KeyError(f"missing {len(missing)} {model} weights, e.g. {missing[:3]}")
    weights = {name: np.asarray(found[name], dtype=np.float32) for name in expected}
    for name, shape in expected.items():
        if weights[name].shape != shape:
            raise ValueError(f"{name}: shape {weights[name].shape} does not match config {shape}")
    return weights


def add_encoder_constants(b: GraphBuilder, num_heads: int, head_dim: int) -> None:
    """Constants reused by every layer, registered once under fixed names."""
    b.const("heads_shape", np.array([0, 0, num_heads, head_dim], dtype=np.int64))
    b.const("hidden_shape", np.array([0, 0, num_heads * head_dim], dtype=np.int64))
    b.const("attention_scale", np.array(1.0 / math.sqrt(head_dim), dtype=np.float32))
    b.const("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))
    b.const("half", np.array(0.5, dtype=np.float32))
    b.const("one_f32", np.array(1.0, dtype=np.float32))


def _split_heads(b: GraphBuilder, x: str, perm: list[int]) -> str:
    """[batch, seq, hidden] -> [batch, heads, ...] in the order given by `perm`."""
    return b.op("Transpose", b.op("Reshape", x, "heads_shape"), perm=perm)


def attention(b: GraphBuilder, x: str, prefixes: Sequence[str], mask: str | None) -> str:
    """Multi-head scaled dot-product attention over the query, key and value projections
    named by `prefixes`; returns the merged heads [batch, seq, hidden], before the output
    projection. `mask` is an additive [batch, 1, 1, seq] tensor, or None to attend to all."""
    query, key, value = prefixes
    q = _split_heads(b, b.linear(x, query), [0, 2, 1, 3])
    k = _split_heads(b, b.linear(x, key), [0, 2, 3, 1])
    v = _split_heads(b, b.linear(x, value), [0, 2, 1, 3])
    scores = b.op("Mul", b.op("MatMul", q, k), "attention_scale")
    if mask is not None:
        scores = b.op("Add", scores, mask)
    probs = b.op("Softmax", scores, axis=-1)
    context = b.op("Transpose", b.op("MatMul", probs, v), perm=[0, 2, 1, 3])
    return b.op("Reshape", context, "hidden_shape")


def gelu(b: GraphBuilder, x: str) -> str:
    """Exact (erf) GELU, as HF's "gelu": 0.5 * x * (1 + erf(x / sqrt 2))."""
    erf = b.op("Erf", b.op("Div", x, "sqrt2"))
    return b.op("Mul", b.op("Mul", x, b.op("Add", erf, "one_f32")), "half")


def finish_model(
    b: GraphBuilder,
    inputs: list[onnx.ValueInfoProto],
    output: str,
    output_info: onnx.ValueInfoProto,
    *,
    graph_name: str,
    producer: str,
) -> onnx.ModelProto:
    """Expose `output` under the name of `output_info` and wrap the graph in a checked model."""
    out_name = output_info.name
    b.nodes.append(helper.make_node("Identity", [output], [out_name], name=out_name))
    graph = helper.make_graph(b.nodes, graph_name, inputs, [output_info], b.initializers)
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=producer,
        ir_version=IR_VERSION,
    )
    onnx.checker.check_model(model)
    return model
