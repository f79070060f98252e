"""Tokenization with `tokenizers`: our own truncation and padding, never the file's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from ..errors import ConfigError, InputTooLong
from .types import TokenizedText

__all__ = ["TextTokenizer", "pad_batch"]


class TextTokenizer:
    """Encodes texts to at most `max_tokens` ids (special tokens included).

    A shipped tokenizer.json often carries its own truncation and padding (all-MiniLM-L6-v2's
    says 128 where the model's real limit is 256), so both are reset here and the model
    profile decides. Texts are first encoded whole, which gives the true token count; only
    the rare over-long text is encoded a second time with truncation.
    """

    def __init__(self, path: Path, max_tokens: int) -> None:
        try:
            whole = Tokenizer.from_file(str(path))
            cut = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises bare Exception on bad files
            raise ConfigError(f"{path}: not a usable tokenizer.json ({exc})") from None
        whole.no_padding()
        whole.no_truncation()
        cut.no_padding()
        cut.enable_truncation(max_length=max_tokens)
        self._whole = whole
        self._cut = cut
        self.max_tokens = max_tokens
        pad_id = whole.token_to_id("[PAD]")
        self.pad_id = 0 if pad_id is None else pad_id

    def encode(self, texts: Sequence[str], truncate: Sequence[bool]) -> list[TokenizedText]:
        """Encodes every text; an over-long text whose `truncate` is False raises InputTooLong."""
        encodings = self._whole.encode_batch(list(texts), add_special_tokens=True)
        tokenized = []
        rows = zip(texts, encodings, truncate, strict=True)
        for index, (text, encoding, may_cut) in enumerate(rows):
            count = len(encoding.ids)
            if count > self.max_tokens:
                if not may_cut:
                    where = "input" if len(texts) == 1 else f"inputs[{index}]"
                    raise InputTooLong(self.too_long(count, where))
                encoding = self._cut.encode(text, add_special_tokens=True)
            tokenized.append(
                TokenizedText(
                    ids=np.asarray(encoding.ids, dtype=np.int64),
                    type_ids=np.asarray(encoding.type_ids, dtype=np.int64),
                    untruncated_tokens=count,
                )
            )
        return tokenized

    def too_long(self, count: int, where: str = "input") -> str:
        """The refusal of a text of `count` tokens when truncation is not allowed."""
        return (
            f"{where} has {count} tokens, more than the model's limit of {self.max_tokens}; "
            "shorten it or allow truncation"
        )


def pad_batch(
    items: Sequence[TokenizedText], pad_id: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Right-pads items to the longest: (input_ids, attention_mask, token_type_ids), int64."""
    length = max(item.tokens for item in items)
    ids = np.full((len(items), length), pad_id, dtype=np.int64)
    mask = np.zeros((len(items), length), dtype=np.int64)
    type_ids = np.zeros((len(items), length), dtype=np.int64)
    for row, item in enumerate(items):
        ids[row, : item.tokens] = item.ids
        mask[row, : item.tokens] = 1
        type_ids[row, : item.tokens] = item.type_ids
    return ids, mask, type_ids
