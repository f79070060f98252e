"""Our truncation and padding, not the tokenizer file's."""

from __future__ import annotations

import numpy as np
import pytest

from nomic_serve.core.tokenization import TextTokenizer, pad_batch
from nomic_serve.errors import ConfigError, InputTooLong

LONG = "hello world " * 40  # 80 words + [CLS]/[SEP], over the 64-token limit


def test_file_padding_and_truncation_are_ignored(tiny_model) -> None:
    tokenizer = TextTokenizer(tiny_model.tokenizer, max_tokens=64)
    (short, long) = tokenizer.encode(["hello world", LONG], [True, True])
    assert short.tokens == 4 and not short.truncated  # the file pads to 16
    assert long.tokens == 64 and long.truncated  # the file truncates at 16
    assert long.ids[0] == 2 and long.ids[-1] == 3  # still [CLS] ... [SEP]


def test_refused_truncation_names_count_and_limit(tiny_model) -> None:
    tokenizer = TextTokenizer(tiny_model.tokenizer, max_tokens=64)
    with pytest.raises(
        InputTooLong, match="input has 82 tokens, more than the model's limit of 64"
    ):
        tokenizer.encode([LONG], [False])
    with pytest.raises(InputTooLong, match=r"inputs\[1\] has 82 tokens"):
        tokenizer.encode(["hello", LONG], [False, False])


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
