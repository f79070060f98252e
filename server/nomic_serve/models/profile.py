"""Builds a TextProfile from the model's own files, its output shape and the overrides.

Hugging Face exports keep `config.json` next to the ONNX file or one folder up
(`onnx/model.onnx`); sentence-transformers models add `sentence_bert_config.json` (the real
maximum length) and `1_Pooling/config.json`. Without any of them the nomic profile applies,
since nomic-embed-text-v1.5 is what this server is for.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..config import Settings
from ..core.images import DEFAULT_CLIP, ClipConfig
from ..core.prompts import NOMIC_PREFIXES
from ..core.types import TextProfile, VisionProfile
from ..errors import ConfigError

__all__ = [
    "NOMIC_TEXT_PROFILE",
    "NOMIC_VISION_NAME",
    "clip_config",
    "text_profile",
    "vision_profile",
]

NOMIC_VISION_NAME = "nomic-embed-vision-v1.5"
NOMIC_TEXT_PROFILE = TextProfile(
    name="nomic-embed-text-v1.5",
    dimension=768,
    max_tokens=8192,
    pooling="mean",
    layer_norm=True,
    prefixes=NOMIC_PREFIXES,
)


def text_profile(
    model_path: Path,
    settings: Settings,
    *,
    output_dimension: int | None,
    name: str | None = None,
) -> TextProfile:
    """The profile for `model_path`: config files first, then the settings' overrides."""
    folder = _config_folder(model_path)
    config = _read_json(folder / "config.json") if folder else {}
    if config.get("model_type", "nomic_bert") == "nomic_bert":
        base = NOMIC_TEXT_PROFILE
        max_tokens = int(config.get("n_positions", base.max_tokens))
        dimension = int(config.get("n_embd", base.dimension))
        pooling, layer_norm, prefixes = base.pooling, base.layer_norm, base.prefixes
        default_name = base.name
    else:
        st_config = _read_json(folder / "sentence_bert_config.json") if folder else {}
        pooling_config = _read_json(folder / "1_Pooling" / "config.json") if folder else {}
        max_tokens = int(
            st_config.get("max_seq_length", config.get("max_position_embeddings", 512))
        )
        dimension = int(config.get("hidden_size", 0))
        pooling = "cls" if pooling_config.get("pooling_mode_cls_token") else "mean"
        layer_norm, prefixes = False, ()
        default_name = str(config.get("_name_or_path") or model_path.stem)
    if output_dimension is not None:
        dimension = output_dimension  # the graph is the truth
    if dimension < 1:
        raise ConfigError(f"{model_path}: cannot tell the embedding dimension")
    return TextProfile(
        name=settings.txt_model_name or name or default_name,
        dimension=dimension,
        max_tokens=settings.txt_max_tokens or max_tokens,
        pooling=settings.txt_pooling or pooling,
        layer_norm=layer_norm if settings.txt_layer_norm is None else settings.txt_layer_norm,
        prefixes=prefixes if settings.txt_prefixes is None else _prefixes(settings.txt_prefixes),
    )


def vision_profile(model_path: Path, *, output_dimension: int | None) -> VisionProfile:
    """The vision profile: CLS pooling; the dimension from the graph, else config.json."""
    folder = _config_folder(model_path)
    config = _read_json(folder / "config.json") if folder else {}
    dimension = output_dimension or int(config.get("n_embd", config.get("hidden_size", 768)))
    return VisionProfile(name=NOMIC_VISION_NAME, dimension=dimension)


def clip_config(model_path: Path) -> ClipConfig:
    """The model's preprocessor_config.json (beside it or one folder up), else CLIP's."""
    for folder in (model_path.parent, model_path.parent.parent):
        if (folder / "preprocessor_config.json").is_file():
            return ClipConfig.from_preprocessor_config(folder / "preprocessor_config.json")
    return DEFAULT_CLIP


def _prefixes(enabled: bool) -> tuple[str, ...]:
    return NOMIC_PREFIXES if enabled else ()


def _config_folder(model_path: Path) -> Path | None:
    for folder in (model_path.parent, model_path.parent.parent):
        if (folder / "config.json").is_file():
            return folder
    return None


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data
