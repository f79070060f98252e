"""Long texts in chunks: where the windows go, in the text's own tokens.

A window ends at a sentence end when one lies within the last eighth of it, else at a word
start (a token that whitespace or punctuation separates from the one before), so a chunk's
characters re-tokenize to the same tokens and never split a word; only a single word longer
than a window is cut inside. Consecutive windows share about `overlap` tokens: the shared
part starts on a word too, so it is a few tokens more (or less, where one word is longer
than the overlap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InvalidInput, quoted

__all__ = [
    "MODES",
    "TRUNCATE",
    "ChunkPlan",
    "Span",
    "macro_windows",
    "ownership",
    "plan",
    "resolve_mode",
]

TRUNCATE = "truncate"
MODES = (TRUNCATE, "chunk", "late_chunk")
_SENTENCE_ENDS = frozenset(".!?;\n\u3002\uff01\uff1f")  # and the CJK full stop, ! and ?
# Chunks shorter than this many tokens are not asked for (a window of 1 token makes every
# word a vector: a misuse, not a chunking).
MIN_CHUNK_TOKENS = 8


@dataclass(frozen=True)
class Span:
    """One chunk: tokens [token_start, token_end) and characters [char_start, char_end)."""

    token_start: int
    token_end: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class ChunkPlan:
    mode: str
    size: int
    overlap: int


def resolve_mode(value: str, size: int, overlap: int, budget: int) -> ChunkPlan:
    """The request's long-input options, checked: `budget` is the most tokens a chunk can
    hold (the model's maximum less its special and prefix tokens)."""
    mode = value or TRUNCATE
    if mode not in MODES:
        raise InvalidInput(f"long_input must be one of {', '.join(MODES)}, got {quoted(mode)}")
    if mode == TRUNCATE:
        if size or overlap:
            raise InvalidInput("chunk_tokens and chunk_overlap need long_input chunk or late_chunk")
        return ChunkPlan(mode, 0, 0)
    size = size or budget
    if not MIN_CHUNK_TOKENS <= size <= budget:
        raise InvalidInput(
            f"chunk_tokens must be in [{MIN_CHUNK_TOKENS}, {budget}] (the model's maximum "
            f"less its special and prefix tokens), got {size}"
        )
    if not 0 <= overlap <= size // 2:
        raise InvalidInput(f"chunk_overlap must be in [0, {size // 2}], got {overlap}")
    return ChunkPlan(mode, size, overlap)


def plan(text: str, offsets: Sequence[tuple[int, int]], size: int, overlap: int) -> list[Span]:
    """The chunks of a text whose tokens have these character `offsets` (no special tokens),
    in order; every token is in at least one chunk. An empty token list has no chunk."""
    count = len(offsets)
    starts = _word_starts(text, offsets)
    spans: list[Span] = []
    start = previous_end = 0
    while start < count:
        end = min(start + size, count)
        if end < count:
            end = _cut(text, offsets, starts, start, end, size)
        if spans and end <= previous_end:
            start = previous_end  # the overlap left no room for a new word: none this time
            continue
        spans.append(Span(start, end, offsets[start][0], offsets[end - 1][1]))
        previous_end = end
        if end >= count:
            break
        if overlap == 0:
            start = end
            continue
        following = back = max(end - overlap, start + 1)
        while back > start and not starts[back]:
            back -= 1  # back to a word start: a few tokens more overlap
        if back > start:
            following = back
        else:  # one word fills the overlap: start after it, with less
            while following < end and not starts[following]:
                following += 1
        start = following
    return spans


def macro_windows(count: int, width: int) -> list[tuple[int, int]]:
    """Token windows of at most `width` covering [0, count), consecutive ones sharing a
    quarter of their width: the contexts a text longer than the model's is encoded in."""
    if count <= width:
        return [(0, count)]
    step = max(width - width // 4, 1)
    windows = []
    start = 0
    while True:
        end = min(start + width, count)
        windows.append((end - width if end == count else start, end))
        if end == count:
            return windows
        start += step


def ownership(windows: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The tokens each window's hidden states are taken for: where two windows overlap, the
    first one owns the first half of the overlap and the next one the rest, so every token
    is read where it has context on both sides."""
    owned = []
    start = windows[0][0]
    for (_, end), following in zip(windows, [*windows[1:], None], strict=True):
        cut = end if following is None else (following[0] + end) // 2
        owned.append((start, cut))
        start = cut
    return owned


def _word_starts(text: str, offsets: Sequence[tuple[int, int]]) -> list[bool]:
    """Per token (and one past the last), whether a chunk may start there: the first token,
    and one that does not continue the previous token's word (a gap before it, or
    punctuation on either side)."""
    starts = [True] * (len(offsets) + 1)
    for i in range(1, len(offsets)):
        previous_end, begin = offsets[i - 1][1], offsets[i][0]
        joined = begin <= previous_end
        word = text[begin : begin + 1].isalnum() and text[previous_end - 1 : previous_end].isalnum()
        starts[i] = not (joined and word)
    return starts


def _cut(
    text: str,
    offsets: Sequence[tuple[int, int]],
    starts: list[bool],
    start: int,
    end: int,
    size: int,
) -> int:
    """Where the window [start, end) ends: after a sentence end within the last eighth, else
    at the last word start, else (one word longer than the window) at `end`."""
    slack = max(size // 8, 1)
    for cut in range(end, max(end - slack, start + 1) - 1, -1):
        last = text[offsets[cut - 1][0] : offsets[cut - 1][1]]
        if last and last[-1] in _SENTENCE_ENDS and starts[cut]:
            return cut
    for cut in range(end, start, -1):
        if starts[cut]:
            return cut
    return end
