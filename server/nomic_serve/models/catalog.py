"""The official nomic-embed v1.5 files that `make models` fetches, pinned to exact bytes.

Revisions are commit hashes, never `main`: a push upstream must not silently change the
weights (and so the embedding space) under a deployed server. Sizes and sha256 values are
the Hugging Face LFS/blob declarations at those commits, as pinned by several independent
public projects; `None` means no trustworthy value was found, and the downloader then
prints the computed sha256 so it can be pinned here.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

HF_BASE_URL = "https://huggingface.co"

TEXT_REPO = "nomic-ai/nomic-embed-text-v1.5"
VISION_REPO = "nomic-ai/nomic-embed-vision-v1.5"
TEXT_REVISION = "e9b6763023c676ca8431644204f50c2b100d9aab"
VISION_REVISION = "e3a725bce72db07ca4adb1d83da08903f3ee02f8"

# `--only` names a modality; each modality is one upstream repository.
REPOS: Mapping[str, str] = {"text": TEXT_REPO, "vision": VISION_REPO}


@dataclass(frozen=True)
class ModelFile:
    """One upstream file and where it lands, relative to the download root."""

    repo: str
    revision: str
    path: str
    dest: str
    size: int | None = None
    sha256: str | None = None

    def url(self, base_url: str = HF_BASE_URL) -> str:
        """The `resolve` URL; a mirror only has to swap the host part."""
        return f"{base_url.rstrip('/')}/{self.repo}/resolve/{self.revision}/{self.path}"


def _text(path: str, size: int | None = None, sha256: str | None = None) -> ModelFile:
    name = PurePosixPath(path).name
    return ModelFile(TEXT_REPO, TEXT_REVISION, path, f"models/txt/{name}", size, sha256)


def _vision(path: str, size: int | None = None, sha256: str | None = None) -> ModelFile:
    name = PurePosixPath(path).name
    return ModelFile(VISION_REPO, VISION_REVISION, path, f"models/img/{name}", size, sha256)


DEFAULT: tuple[ModelFile, ...] = (
    _text(
        "onnx/model_quantized.onnx",
        137_296_292,
        "b4342336debaea79de872370664b0aaeb67dea4605513d00ee236ea871a81f27",
    ),
    _text(
        "tokenizer.json",
        711_396,
        "d241a60d5e8f04cc1b2b3e9ef7a4921b27bf526d9f6050ab90f9267a1f9e5c66",
    ),
    _text(
        "config.json",
        2_538,
        "9ab00bd92cee80a569f708140b7b6c1661a65891ff3765b1519e181ba2f2c92b",
    ),
    _vision("onnx/model_quantized.onnx"),
    # Vision configs: only one public source pins them, too thin to fail a download on.
    _vision("preprocessor_config.json"),
    _vision("config.json"),
)

# Variants for benchmarking other precisions; none is needed to serve.
EXTRA: tuple[ModelFile, ...] = (
    _text(
        "onnx/model.onnx",
        547_310_275,
        "147d5aa88c2101237358e17796cf3a227cead1ec304ec34b465bb08e9d952965",
    ),
    _text(
        "onnx/model_fp16.onnx",
        273_859_028,
        "cf5b5a86edb00f895561803cfc04729090a958340b8ca2ad76c143f565f6bb04",
    ),
    # Byte-identical to model_quantized.onnx upstream (same LFS oid).
    _text(
        "onnx/model_int8.onnx",
        137_296_292,
        "b4342336debaea79de872370664b0aaeb67dea4605513d00ee236ea871a81f27",
    ),
    _text(
        "onnx/model_q4.onnx",
        165_113_221,
        "314976b7b9fba83283f9c8a29ee680a159fa485f52104e3fa39d3d5858337003",
    ),
    _text("onnx/model_q4f16.onnx"),
    _text("onnx/model_uint8.onnx"),
    _vision("onnx/model.onnx"),
    _vision("onnx/model_fp16.onnx"),
)

SETS: Mapping[str, tuple[ModelFile, ...]] = {"default": DEFAULT, "all": DEFAULT + EXTRA}
