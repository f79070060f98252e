"""Request checks and the messages callers read."""

from __future__ import annotations

import pytest

from nomic_serve.core.prompts import NOMIC_PREFIXES, prompt_for
from nomic_serve.core.types import TextItem, TextProfile
from nomic_serve.core.validation import TextRules, resolve_dim, resolve_prefix
from nomic_serve.errors import EmptyInput, InputTooLong, InvalidInput

PROFILE = TextProfile(
    "m", dimension=768, max_tokens=8192, pooling="mean", layer_norm=True, prefixes=NOMIC_PREFIXES
)
RULES = TextRules(PROFILE, default_prefix="search_query", max_chars=100, max_inputs=4)


@pytest.mark.parametrize(("dim", "expected"), [(0, 768), (1, 1), (128, 128), (768, 768)])
def test_dim_in_range(dim: int, expected: int) -> None:
    assert resolve_dim(dim, 768) == expected


@pytest.mark.parametrize("dim", [-1, 769, 100000])
def test_dim_out_of_range_names_the_range(dim: int) -> None:
    with pytest.raises(InvalidInput, match=r"dim must be in \[1, 768\].*got " + str(dim)):
        resolve_dim(dim, 768)


def test_prefix_defaults_and_is_checked() -> None:
    assert resolve_prefix("", "search_query") == "search_query"
    assert resolve_prefix("search_document", "search_query") == "search_document"
    assert resolve_prefix("Clustering", "search_query") == "clustering"
    with pytest.raises(InvalidInput, match="prefix must be one of search_query, search_document"):
        resolve_prefix("search", "search_query")


@pytest.mark.parametrize("text", ["", " ", "\n\t  "])
def test_empty_or_whitespace_is_refused(text: str) -> None:
    with pytest.raises(EmptyInput, match="input is empty or whitespace only"):
        RULES.text(text, dim=0, prefix="", truncate=True)


def test_list_errors_name_the_item_and_the_limit() -> None:
    options = dict(dim=0, prefix="", truncate=True)
    with pytest.raises(InvalidInput, match="at least one"):
        RULES.texts([], **options)
    with pytest.raises(EmptyInput, match=r"inputs\[1\] is empty"):
        RULES.texts(["a", " "], **options)
    with pytest.raises(InvalidInput, match="5 texts, more than the limit of 4"):
        RULES.texts(["a"] * 5, **options)


def test_a_text_over_the_character_cap_is_cut_or_refused_before_anything_else() -> None:
    long = "word " * 40  # 200 characters, the cap is 100
    cut = RULES.text(long, dim=0, prefix="", truncate=True)
    assert cut.cut and cut.text == long[:100]
    assert not RULES.text("short", dim=0, prefix="", truncate=True).cut
    with pytest.raises(InputTooLong, match=r"inputs\[1\] has 200 characters, more than the "):
        RULES.texts(["a", long], dim=0, prefix="", truncate=False)
    with pytest.raises(InputTooLong, match="MAX_INPUT_CHARS"):
        RULES.text(" " * 10_000_000, dim=0, prefix="", truncate=False)
    # Whitespace past the cap does not matter: the cut text is checked.
    with pytest.raises(EmptyInput):
        RULES.text(" " * 10_000_000, dim=0, prefix="", truncate=True)


def test_a_bad_value_is_quoted_short_in_the_message() -> None:
    with pytest.raises(InvalidInput) as caught:
        RULES.text("a", dim=0, prefix="x" * 70_000, truncate=True)
    message = str(caught.value)
    assert len(message) < 200 and "70,000 characters" in message


def test_prompt_follows_the_model_card() -> None:
    item = TextItem("Hello", prefix="search_document", dim=8, truncate=True)
    assert prompt_for(item, PROFILE) == "search_document: Hello"
    assert prompt_for(TextItem("Hello", "none", 8, True), PROFILE) == "Hello"
    no_prefixes = TextProfile("st", 384, 256, "mean", False, ())
    assert prompt_for(item, no_prefixes) == "Hello"
