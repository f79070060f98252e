"""Our truncation and padding, not the tokenizer file's."""

from __future__ import annotations

import numpy as np
import pytest

from nomic_serve.core.tokenization import TextTokenizer, pad_batch
from nomic_serve.errors import ConfigError

LONG = "hello world " * 40  # 80 words + [CLS]/[SEP], over the 64-token limit


def test_file_padding_and_truncation_are_ignored(tiny_model) -> None:
    tokenizer = TextTokenizer(tiny_model.tokenizer, max_tokens=64)
    (short, long) = tokenizer.encode(["hello world", LONG], [True, True])
    assert short.tokens == 4 and not short.truncated  # the file pads to 16
    assert long.tokens == 64 and long.truncated  # the file truncates at 16
    assert long.ids[0] == 2 and long.ids[-1] == 3  # still [CLS] ... [SEP]


def test_a_text_that_may_not_be_cut_keeps_every_token_and_its_count(tiny_model) -> None:
    """The caller decides how to refuse it (naming the item in its own list)."""
    tokenizer = TextTokenizer(tiny_model.tokenizer, max_tokens=64)
    (kept, cut) = tokenizer.encode([LONG, LONG], [False, True])
    assert kept.tokens == kept.untruncated_tokens == 82 and kept.truncated is False
    assert cut.tokens == 64 and cut.untruncated_tokens == 82 and cut.truncated
    assert tokenizer.too_long(82, "inputs[2]") == (
        "inputs[2] has 82 tokens, more than the model's limit of 64; shorten it or allow truncation"
    )


def test_holding_the_gil_encodes_exactly_as_encode_batch(tiny_model) -> None:
    """The inline path (short texts, GIL held) and the pool's path give the same tokens,
    truncation included."""
    tokenizer = TextTokenizer(tiny_model.tokenizer, max_tokens=64)
    texts, may_cut = ["hello world", LONG, LONG], [True, True, False]
    held = tokenizer.encode(texts, may_cut, hold_gil=True)
    released = tokenizer.encode(texts, may_cut)
    for a, b in zip(held, released, strict=True):
        np.testing.assert_array_equal(a.ids, b.ids)
        assert (a.tokens, a.untruncated_tokens) == (b.tokens, b.untruncated_tokens)


def test_pad_batch_right_pads_with_mask(tiny_model) -> None:
    tokenizer = TextTokenizer(tiny_model.tokenizer, max_tokens=64)
    items = tokenizer.encode(["hello", "hello world the cat"], [True, True])
    ids, mask, types = pad_batch(items, tokenizer.pad_id)
    assert ids.shape == mask.shape == types.shape == (2, 6)
    assert ids.dtype == np.int64
    np.testing.assert_array_equal(mask, [[1, 1, 1, 0, 0, 0], [1] * 6])
    np.testing.assert_array_equal(ids[0, 3:], [tokenizer.pad_id] * 3)


def test_bad_tokenizer_file_is_a_config_error(tmp_path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"not a usable tokenizer\.json"):
        TextTokenizer(bad, 64)
