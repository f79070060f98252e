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


def reference_late_chunks(
    model: Path,
    tokenizer: Path,
    prefix: str,
    text: str,
    spans: list[tuple[int, int]],
    dim: int,
    width: int,
) -> np.ndarray:
    """Late chunking from the paper's recipe, apart from the server's code: the text's own
    tokens in windows of `width` sharing a quarter of it (one window when it fits), each
    framed as `[CLS] <prefix>: <window> [SEP]`; each token's hidden state from the window
    that owns it (overlaps split in half); each span's mean, layer norm, cut, normalized."""
    tok = Tokenizer.from_file(str(tokenizer))
    tok.no_padding()
    tok.no_truncation()
    own = tok.encode(text, add_special_tokens=False).ids
    head = tok.encode(f"{prefix}:", add_special_tokens=False).ids if prefix else []
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    windows, start = [], 0
    while True:
        end = min(start + width, len(own))
        windows.append((max(end - width, 0) if end == len(own) else start, end))
        if end == len(own):
            break
        start += width - width // 4
    states = np.zeros((len(own), 0))
    for k, (start, end) in enumerate(windows):
        ids = np.array([[cls, *head, *own[start:end], sep]], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.zeros_like(ids),
        }
        hidden = session.run(["last_hidden_state"], feeds)[0][0].astype(np.float64)
        if states.shape[1] == 0:
            states = np.zeros((len(own), hidden.shape[1]))
        first = start if k == 0 else (start + windows[k - 1][1]) // 2
        last = end if k == len(windows) - 1 else (windows[k + 1][0] + end) // 2
        body = hidden[1 + len(head) : 1 + len(head) + end - start]
        states[first:last] = body[first - start : last - start]
    rows = []
    for low, high in spans:
        x = states[low:high].mean(axis=0)
        x = (x - x.mean()) / np.sqrt(x.var() + 1e-5)
        x = x[:dim]
        rows.append(x / np.linalg.norm(x))
    return np.array(rows)
