"""nomic task prefixes: a product rule of the model card, not a tokenizer rule."""

from __future__ import annotations

from .types import TextItem, TextProfile

__all__ = ["NOMIC_PREFIXES", "prompt_for", "prompt_head"]

# The tasks nomic-embed-text-v1.5 was trained with; "none" means the caller adds their own.
NOMIC_PREFIXES = ("search_query", "search_document", "clustering", "classification")


def prompt_head(item: TextItem, profile: TextProfile) -> str:
    """What the model sees before the text itself: `"<prefix>:"`, or nothing."""
    if item.prefix == "none" or item.prefix not in profile.prefixes:
        return ""
    return f"{item.prefix}:"


def prompt_for(item: TextItem, profile: TextProfile) -> str:
    """Returns the text the tokenizer sees: `"<prefix>: <text>"` as the model card writes it."""
    head = prompt_head(item, profile)
    return f"{head} {item.text}" if head else item.text
