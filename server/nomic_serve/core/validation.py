"""Request checks shared by every entry point; the messages are what callers read."""

from __future__ import annotations

from collections.abc import Sequence

from ..config import AVERAGING_METHODS, PREFIX_NAMES
from ..errors import EmptyInput, InvalidInput
from .types import TextItem, TextProfile

__all__ = [
    "resolve_averaging",
    "resolve_dim",
    "resolve_prefix",
    "validate_text",
    "validate_texts",
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
        raise InvalidInput(f"{field} must be one of {', '.join(allowed)}, got {value!r}")
    return normalized


def validate_text(
    text: str,
    *,
    dim: int,
    prefix: str,
    truncate: bool,
    profile: TextProfile,
    default_prefix: str,
    label: str = "input",
) -> TextItem:
    """Checks one text and resolves its options into a TextItem."""
    if not text.strip():
        raise EmptyInput(f"{label} is empty or whitespace only")
    return TextItem(
        text=text,
        prefix=resolve_prefix(prefix, default_prefix),
        dim=resolve_dim(dim, profile.dimension),
        truncate=truncate,
    )


def validate_texts(
    texts: Sequence[str],
    *,
    dim: int,
    prefix: str,
    truncate: bool,
    profile: TextProfile,
    default_prefix: str,
    max_inputs: int,
) -> list[TextItem]:
    """Checks a list request; an error names the first bad item by its index."""
    if not texts:
        raise InvalidInput("inputs must hold at least one text")
    if len(texts) > max_inputs:
        raise InvalidInput(
            f"inputs holds {len(texts)} texts, more than the limit of {max_inputs} "
            "(MAX_LIST_INPUTS); split the list or stream it with EmbedBatch"
        )
    options = dict(
        dim=dim, prefix=prefix, truncate=truncate, profile=profile, default_prefix=default_prefix
    )
    return [
        validate_text(text, label=f"inputs[{index}]", **options) for index, text in enumerate(texts)
    ]
