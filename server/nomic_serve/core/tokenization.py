"""Tokenization with `tokenizers`: our own truncation and padding, never the file's."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from ..errors import ConfigError
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
        # The special tokens the template puts before and after a text (BERT: [CLS], [SEP]).
        probe = whole.encode("a", add_special_tokens=False).ids
        framed = whole.encode("a", add_special_tokens=True).ids
        at = next(i for i in range(len(framed)) if framed[i : i + len(probe)] == probe)
        self._lead, self._trail = framed[:at], framed[at + len(probe) :]

    def encode(
        self, texts: Sequence[str], may_cut: Sequence[bool], *, hold_gil: bool = False
    ) -> list[TokenizedText]:
        """Encodes every text; one over the limit is cut to it only where `may_cut` says so
        (the caller refuses the others, naming them in its own terms).

        The first pass uses `encode_batch`, which releases the GIL while it works (`encode`
        holds it: a 10 MB text held every other thread for seconds), unless the caller knows
        the texts are short (`hold_gil`): then releasing the GIL and waiting to take it back
        costs more than the encoding.
        """
        if hold_gil:
            encodings = [self._whole.encode(text, add_special_tokens=True) for text in texts]
        else:
            encodings = self._whole.encode_batch(list(texts), add_special_tokens=True)
        over = [
            i
            for i, (encoding, cut) in enumerate(zip(encodings, may_cut, strict=True))
            if cut and len(encoding.ids) > self.max_tokens
        ]
        counts = [len(encoding.ids) for encoding in encodings]
        if over:
            recut = self._cut.encode_batch([texts[i] for i in over], add_special_tokens=True)
            for i, encoding in zip(over, recut, strict=True):
                encodings[i] = encoding
        return [
            TokenizedText(
                ids=np.asarray(encoding.ids, dtype=np.int64),
                type_ids=np.asarray(encoding.type_ids, dtype=np.int64),
                untruncated_tokens=count,
            )
            for encoding, count in zip(encodings, counts, strict=True)
        ]

    def document(self, text: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """A whole text's own tokens (no special tokens, never cut) and each one's character
        span in it: what long texts are chunked by."""
        encoding = self._whole.encode(text, add_special_tokens=False)
        return np.asarray(encoding.ids, dtype=np.int64), list(encoding.offsets)

    def frame(self, prompt_head: str) -> tuple[list[int], list[int]]:
        """The ids before and after a text's own tokens when the model sees
        `prompt_head + text`: the leading special tokens and the prefix's tokens, and the
        trailing special tokens (learned from the tokenizer's own template)."""
        head = self._whole.encode(prompt_head, add_special_tokens=False).ids if prompt_head else []
        return self._lead + head, list(self._trail)

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
