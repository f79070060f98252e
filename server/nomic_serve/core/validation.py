"""Request checks shared by every entry point; the messages are what callers read.

Every check here is cheap and runs before any expensive step: a list is counted before its
items are looked at, and a text is measured in characters before it is tokenized.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..config import AVERAGING_METHODS, PREFIX_NAMES
from ..errors import EmptyInput, InputTooLong, InvalidInput, quoted
from .types import TextItem, TextProfile

__all__ = [
    "TextRules",
    "check_count",
    "resolve_averaging",
    "resolve_dim",
    "resolve_prefix",
]


def resolve_dim(dim: int, native: int) -> int:
    """Maps 0 (unset) to the native dimension and refuses anything outside [1, native]."""
    if dim == 0:
        return native
    if not 1 <= dim <= native:
        raise InvalidInput(f"dim must be in [1, {native}] (0 or unset means {native}), got {dim}")
    return dim


def resolve_prefix(prefix: str, default: str) -> str:
    """Maps "" to the server default and refuses unknown prefixes, naming the allowed ones."""
    return _choice("prefix", prefix, default, PREFIX_NAMES)


def resolve_averaging(method: str, default: str) -> str:
    """Maps "" to the server default (AVERAGING) and refuses unknown methods."""
    return _choice("averaging_method", method, default, AVERAGING_METHODS)


def _choice(field: str, value: str, default: str, allowed: tuple[str, ...]) -> str:
    if not value:
        return default
    normalized = value.strip().lower()
    if normalized not in allowed:
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}, got {quoted(value)}")
    return normalized


def check_count(count: int, max_inputs: int) -> None:
    """Refuses an empty list or one over MAX_LIST_INPUTS, before any item is read."""
    if count == 0:
        raise InvalidInput("inputs must hold at least one text")
    if count > max_inputs:
        raise InvalidInput(
            f"inputs holds {count:,} texts, more than the limit of {max_inputs:,} "
            "(MAX_LIST_INPUTS); split the list or stream it with EmbedBatch"
        )


@dataclass(frozen=True)
class TextRules:
    """What a text request may ask of one model, and how its options resolve."""

    profile: TextProfile
    default_prefix: str
    max_chars: int  # MAX_INPUT_CHARS: longer texts are cut, or refused without truncation
    max_inputs: int  # MAX_LIST_INPUTS

    def text(
        self, text: str, *, dim: int, prefix: str, truncate: bool, label: str = "input"
    ) -> TextItem:
        """One text checked and its options resolved into a TextItem."""
        return self._item(
            text,
            dim=resolve_dim(dim, self.profile.dimension),
            prefix=resolve_prefix(prefix, self.default_prefix),
            truncate=truncate,
            label=label,
        )

    def texts(
        self, texts: Sequence[str], *, dim: int, prefix: str, truncate: bool
    ) -> list[TextItem]:
        """A list request; an error names the first bad item by its index."""
        check_count(len(texts), self.max_inputs)
        dim = resolve_dim(dim, self.profile.dimension)
        prefix = resolve_prefix(prefix, self.default_prefix)
        return [
            self._item(text, dim=dim, prefix=prefix, truncate=truncate, label=f"inputs[{index}]")
            for index, text in enumerate(texts)
        ]

    def _item(self, text: str, *, dim: int, prefix: str, truncate: bool, label: str) -> TextItem:
        """The character cap comes first: a 10 MB text is cut (or refused) before it is even
        stripped, let alone tokenized. With the default cap (32 characters per token the
        model takes) the cut never changes what natural text the model sees: its tokens
        run out long before the characters do."""
        cut = len(text) > self.max_chars
        if cut:
            if not truncate:
                raise InputTooLong(
                    f"{label} has {len(text):,} characters, more than the limit of "
                    f"{self.max_chars:,} (MAX_INPUT_CHARS); shorten it or allow truncation"
                )
            text = text[: self.max_chars]
        if not text.strip():
            raise EmptyInput(f"{label} is empty or whitespace only")
        return TextItem(text=text, prefix=prefix, dim=dim, truncate=truncate, cut=cut)
