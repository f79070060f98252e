"""Settings from the environment, and the README table that documents them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nomic_serve.config import ENVIRONMENT, Settings
from nomic_serve.errors import ConfigError

README = Path(__file__).resolve().parents[2] / "README.md"


def test_defaults_match_the_original_server() -> None:
    settings = Settings.from_env({})
    assert settings.port == 8080
    assert settings.grpc_port == 50051
    assert settings.txt_model == Path("models/txt/model_quantized.onnx")
    assert settings.tokenizer == Path("models/txt/tokenizer.json")
    assert settings.img_model == Path("models/img/model_quantized.onnx")
    assert settings.averaging == "geometric"
    assert settings.default_prefix == "search_query"
    assert not settings.use_gpu and not settings.disable_cors and not settings.txt_model_explicit


def test_model_is_the_fallback_for_txt_model() -> None:
    assert Settings.from_env({"MODEL": "a.onnx"}).txt_model == Path("a.onnx")
    both = Settings.from_env({"MODEL": "a.onnx", "TXT_MODEL": "b.onnx"})
    assert both.txt_model == Path("b.onnx") and both.txt_model_explicit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("true", True), ("TRUE", True), ("0", False), ("false", False)],
)
def test_flags_accept_the_original_spellings(raw: str, expected: bool) -> None:
    assert Settings.from_env({"USE_GPU": raw, "DISABLE_CORS": raw}).use_gpu is expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRPC_PORT", "http"),
        ("GRPC_PORT", "70000"),
        ("USE_GPU", "maybe"),
        ("AVERAGING", "median"),
        ("DEFAULT_PREFIX", "search"),
        ("MAX_PENDING_ITEMS", "0"),
        ("MAX_PADDING_RATIO", "0.5"),
        ("MAX_PADDING_RATIO", "nan"),
        ("SOLO_SESSION", "sometimes"),
        ("IMAGE_MAX_PIXELS", "100000000"),
        ("FETCH_ALLOW_NETWORKS", "10.0.0.0/33"),
        ("IMAGE_MAX_MB", "-1"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}="):
        Settings.from_env({name: value})


def test_readme_table_documents_exactly_the_variables_read() -> None:
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    table = re.findall(r"^\| `([A-Z_]+)` \|", section, flags=re.MULTILINE)
    assert sorted(table) == sorted(ENVIRONMENT)


def test_image_settings_parse() -> None:
    settings = Settings.from_env(
        {
            "FETCH_ALLOW_NETWORKS": "10.0.0.0/8, 192.168.1.7",
            "IMAGE_MAX_MB": "1.5",
            "IMAGE_EXIF_ORIENTATION": "1",
            "IMG_MODEL": "m.onnx",
        }
    )
    assert [str(n) for n in settings.fetch_allow_networks] == ["10.0.0.0/8", "192.168.1.7/32"]
    assert settings.image_max_bytes == 1572864 and settings.image_exif_orientation
    assert settings.img_model_explicit and not Settings.from_env({}).img_model_explicit


def test_a_list_limit_above_the_queue_limit_is_refused() -> None:
    with pytest.raises(ConfigError, match="MAX_LIST_INPUTS=5000 exceeds MAX_PENDING_ITEMS=4096"):
        Settings.from_env({"MAX_LIST_INPUTS": "5000"})


def test_a_message_limit_above_the_pending_budget_is_refused() -> None:
    with pytest.raises(ConfigError, match="GRPC_MAX_MESSAGE_MB exceeds REQUEST_MAX_PENDING_MB"):
        Settings.from_env({"GRPC_MAX_MESSAGE_MB": "65"})
    settings = Settings.from_env({"GRPC_MAX_MESSAGE_MB": "65", "REQUEST_MAX_PENDING_MB": "65"})
    assert settings.request_max_pending_bytes == 65 * 1024 * 1024
