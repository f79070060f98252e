"""The model profile from config files, output shape and overrides."""

from __future__ import annotations

import json
from pathlib import Path

from nomic_serve.config import Settings
from nomic_serve.models.profile import NOMIC_TEXT_PROFILE, text_profile


def test_no_config_means_the_nomic_profile(tmp_path: Path) -> None:
    profile = text_profile(tmp_path / "model.onnx", Settings(), output_dimension=None)
    assert profile == NOMIC_TEXT_PROFILE


def test_hugging_face_onnx_layout_finds_config_one_folder_up(tmp_path: Path) -> None:
    (tmp_path / "onnx").mkdir()
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "nomic_bert", "n_positions": 2048, "n_embd": 768})
    )
    profile = text_profile(tmp_path / "onnx" / "model.onnx", Settings(), output_dimension=768)
    assert profile.max_tokens == 2048 and profile.layer_norm and profile.prefixes


def test_sentence_transformers_files_set_length_and_pooling(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"model_type": "bert", "hidden_size": 384, "max_position_embeddings": 512})
    )
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 256}))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True})
    )
    profile = text_profile(tmp_path / "model.onnx", Settings(), output_dimension=None, name="st")
    assert (profile.name, profile.dimension, profile.max_tokens) == ("st", 384, 256)
    assert profile.pooling == "cls" and not profile.layer_norm and profile.prefixes == ()


def test_environment_overrides_win(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "TXT_MAX_TOKENS": "512",
            "TXT_POOLING": "cls",
            "TXT_PREFIXES": "0",
            "TXT_LAYER_NORM": "false",
            "TXT_MODEL_NAME": "mine",
        }
    )
    profile = text_profile(tmp_path / "m.onnx", settings, output_dimension=256)
    assert profile.name == "mine" and profile.dimension == 256 and profile.max_tokens == 512
    assert profile.pooling == "cls" and not profile.layer_norm and profile.prefixes == ()
