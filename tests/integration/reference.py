"""An independent text embedding, written from the model card with numpy and raw ORT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def reference_embedding(
    model: Path, tokenizer: Path, text: str, dim: int, layer_norm: bool = True
) -> np.ndarray:
    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_padding()
    tok.no_truncation()
    ids = np.array([tok.encode(text).ids], dtype=np.int64)
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    feeds = {
        "input_ids": ids,
        "attention_mask": np.ones_like(ids),
        "token_type_ids": np.zeros_like(ids),
    }
    hidden = session.run(["last_hidden_state"], feeds)[0][0].astype(np.float64)
    x = hidden.mean(axis=0)
    if layer_norm:
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-5)
    x = x[:dim]
    return x / np.linalg.norm(x)
