"""API keys: parsing, the keys file and its reload, and what is never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomic_serve.api.auth import ApiKeys, _presented
from nomic_serve.config import Settings
from nomic_serve.errors import ConfigError


def _accepts(keys: ApiKeys, presented: str) -> bool:
    return keys.match(presented) is not None


def test_inline_and_file_keys_are_accepted_and_nothing_else(tmp_path: Path) -> None:
    file = tmp_path / "keys"
    file.write_text("# rotated 2026-12-01\nfile-key-1\n\n  file-key-2  \n")
    keys = ApiKeys(("inline-key",), file)
    assert keys.enabled and len(keys) == 3
    for key in ("inline-key", "file-key-1", "file-key-2"):
        assert _accepts(keys, key)
    for key in ("", "inline", "file-key-1 ", "# rotated 2026-12-01", "FILE-KEY-1"):
        assert not _accepts(keys, key), key


def test_the_file_is_reloaded_and_a_broken_reload_keeps_the_keys(tmp_path: Path) -> None:
    file = tmp_path / "keys"
    file.write_text("old\n")
    keys = ApiKeys((), file)
    file.write_text("new\n")
    assert _accepts(keys, "old")  # not before the reload
    keys.reload()
    assert _accepts(keys, "new") and not _accepts(keys, "old")
    file.unlink()
    keys.reload()  # logged, and the keys in force stay
    assert _accepts(keys, "new")


def test_an_empty_keys_file_closes_the_server_instead_of_opening_it(tmp_path: Path) -> None:
    file = tmp_path / "keys"
    file.write_text("\n# none yet\n")
    keys = ApiKeys((), file)
    assert keys.enabled and len(keys) == 0 and not _accepts(keys, "anything")
    assert not ApiKeys((), None).enabled


def test_a_missing_keys_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="API_KEYS_FILE"):
        ApiKeys((), tmp_path / "absent")


def test_keys_are_never_shown(tmp_path: Path) -> None:
    settings = Settings.from_env({"API_KEYS": "sk-secret-one, sk-secret-two"})
    assert settings.api_keys == ("sk-secret-one", "sk-secret-two")
    keys = ApiKeys(settings.api_keys, None)
    for text in (repr(settings), str(settings), repr(keys)):
        assert "sk-secret" not in text
    with pytest.raises(ConfigError) as caught:
        Settings.from_env({"API_KEYS": " , ,"})
    assert "API_KEYS" in str(caught.value) and ", ," not in str(caught.value)


def test_open_groups_are_parsed() -> None:
    assert Settings().api_keys_open == ("health", "reflection")
    assert Settings.from_env({"API_KEYS_OPEN": "none"}).api_keys_open == ()
    assert Settings.from_env({"API_KEYS_OPEN": "Health"}).api_keys_open == ("health",)
    with pytest.raises(ConfigError, match="API_KEYS_OPEN"):
        Settings.from_env({"API_KEYS_OPEN": "everything"})


@pytest.mark.parametrize(
    ("metadata", "key"),
    [
        ((("authorization", "Bearer k1"),), "k1"),
        ((("authorization", "bearer   k1 "),), "k1"),
        ((("x-api-key", "k2"),), "k2"),
        ((("authorization", "Basic dXNlcjpwYXNz"), ("x-api-key", "k3")), "k3"),
        ((("authorization", "Bearer "),), None),
        ((), None),
    ],
)
def test_the_presented_key(metadata: tuple[tuple[str, str], ...], key: str | None) -> None:
    assert _presented(metadata) == key
