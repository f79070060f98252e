"""Where chunks go: spans cover every token, overlap as asked, end on sentences or words."""

from __future__ import annotations

import itertools

import pytest
from tokenizers import Tokenizer

from nomic_serve.core.chunking import macro_windows, ownership, plan, resolve_mode
from nomic_serve.errors import InvalidInput


@pytest.fixture(scope="module")
def tokenizer(tiny_model) -> Tokenizer:
    tok = Tokenizer.from_file(str(tiny_model.tokenizer))
    tok.no_truncation()
    tok.no_padding()
    return tok


TEXT = (
    "The cat sat on the mat. It purred loudly, and then it slept! Did the dog notice? "
    "No: the dog was outside, chasing unbelievably quick squirrels around the old oak tree. "
) * 6


@pytest.mark.parametrize(
    ("size", "overlap"), [(16, 0), (16, 4), (24, 8), (40, 20), (13, 0), (13, 6)]
)
def test_spans_cover_the_text_once_up_to_the_overlap(tokenizer, size: int, overlap: int) -> None:
    encoding = tokenizer.encode(TEXT, add_special_tokens=False)
    spans = plan(TEXT, encoding.offsets, size, overlap)
    assert spans[0].token_start == 0 and spans[-1].token_end == len(encoding.ids)
    for span in spans:
        assert 0 < span.token_end - span.token_start <= size
        assert span.char_start == encoding.offsets[span.token_start][0]
        assert span.char_end == encoding.offsets[span.token_end - 1][1]
        # A chunk's characters tokenize to exactly its tokens: no word is split.
        piece = tokenizer.encode(TEXT[span.char_start : span.char_end], add_special_tokens=False)
        assert piece.ids == encoding.ids[span.token_start : span.token_end]
    # The overlap starts on a word: a few tokens more, or less where one word (up to 12
    # tokens with this tokenizer's small vocabulary) would not fit in it.
    shared = [b.token_end - a.token_start for b, a in itertools.pairwise(spans)]
    assert all(a.token_start > b.token_start for b, a in itertools.pairwise(spans))
    assert all(0 <= n <= overlap + 12 for n in shared)
    assert sum(shared) / len(shared) >= overlap / 2 if overlap else set(shared) == {0}


def test_a_chunk_ends_at_a_sentence_when_one_is_near(tokenizer) -> None:
    encoding = tokenizer.encode(TEXT, add_special_tokens=False)
    spans = plan(TEXT, encoding.offsets, 48, 0)  # a slack of 6 tokens
    endings = [TEXT[s.char_end - 1] for s in spans[:-1]]
    assert endings.count(".") + endings.count("!") + endings.count("?") >= len(endings) // 3


def test_a_word_longer_than_a_chunk_is_cut_inside() -> None:
    text = "a " + "x" * 40 + " b"
    offsets = [(0, 1)] + [(2 + i, 3 + i) for i in range(40)] + [(43, 44)]
    spans = plan(text, offsets, 8, 0)
    assert [(s.token_start, s.token_end) for s in spans][:2] == [(0, 1), (1, 9)]
    assert spans[-1].token_end == 42


def test_macro_windows_and_who_owns_each_token() -> None:
    assert macro_windows(50, 64) == [(0, 50)]
    windows = macro_windows(200, 64)
    assert windows[0] == (0, 64) and windows[-1][1] == 200
    assert all(end - start == 64 for start, end in windows)
    owned = ownership(windows)
    assert owned[0][0] == 0 and owned[-1][1] == 200
    assert all(a[1] == b[0] for a, b in itertools.pairwise(owned))
    for (start, end), (first, last) in zip(windows, owned, strict=True):
        assert start <= first < last <= end


def test_options() -> None:
    assert resolve_mode("", 0, 0, 60).mode == "truncate"
    assert resolve_mode("chunk", 0, 0, 60).size == 60
    assert resolve_mode("late_chunk", 20, 10, 60).overlap == 10
    for args, fault in [
        (("pieces", 0, 0), "long_input must be one of truncate, chunk, late_chunk"),
        (("", 20, 0), "need long_input chunk or late_chunk"),
        (("chunk", 61, 0), "chunk_tokens must be in [8, 60]"),
        (("chunk", 4, 0), "chunk_tokens must be in [8, 60]"),
        (("chunk", 20, 11), "chunk_overlap must be in [0, 10]"),
    ]:
        with pytest.raises(InvalidInput, match=fault.replace("[", r"\[").replace("]", r"\]")):
            resolve_mode(*args, budget=60)
