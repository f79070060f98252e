"""Figures tests measure on the way (image size, cold start, latency under faults), shown
together at the end of the run: pytest hides what a passing test prints."""

from __future__ import annotations

__all__ = ["FIGURES", "record"]

FIGURES: list[str] = []


def record(text: str) -> None:
    """Keeps `text` (one or more lines) for the session summary."""
    FIGURES.append(text)
