"""Image decoding and CLIP preprocessing: bytes in, a [3, H, W] float32 array out.

The steps reproduce transformers' `CLIPImageProcessor` (PIL backend) called on
`PIL.Image.open(...)` bit for bit, because the vision model was trained on its output: the
same Pillow resampler on uint8, the same centre crop, the same float64 -> float32 rescale.
See ../shared/reference/images/README.md for the conventions and their measured effect.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

import numpy as np
from PIL import (
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    ImageFile,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from nomic_serve.errors import ConfigError, ImageTooLarge, InvalidImage

__all__ = [
    "DEFAULT_CLIP",
    "SUPPORTED_FORMATS",
    "SUPPORTED_MODES",
    "ClipConfig",
    "clip_pixels",
    "decode_image",
    "decoding_bytes",
    "load_image",
    "open_image",
    "resize_geometry",
    "to_rgb",
]

# Plugin classes are used directly instead of `Image.open` because `Image.open` runs Pillow's
# decompression-bomb check (a warning, then an error) before we see the size; opening through
# the class reads only the header, so our own pixel limit is the first to refuse. JPEG skips
# the MPO adoption of `Image.open`: the first picture of an MPO is the plain JPEG.
_LOADERS: dict[str, type[ImageFile.ImageFile]] = {
    "JPEG": JpegImagePlugin.JpegImageFile,
    "PNG": PngImagePlugin.PngImageFile,
    "GIF": GifImagePlugin.GifImageFile,
    "WEBP": WebPImagePlugin.WebPImageFile,
    "BMP": BmpImagePlugin.BmpImageFile,
    "TIFF": TiffImagePlugin.TiffImageFile,
}
SUPPORTED_FORMATS = tuple(_LOADERS)
_EXPECTED = "expected JPEG, PNG, GIF, WebP, BMP or TIFF"

# Every mode those loaders produce, less "La" (TIFF's premultiplied grey + alpha), which Pillow
# cannot convert.
SUPPORTED_MODES = frozenset(
    {"1", "L", "LA", "P", "PA", "RGB", "RGBA", "CMYK", "YCbCr", "LAB", "I", "I;16", "I;16B", "F"}
)

# What Pillow raises for bad data: ImageFile turns most header failures into SyntaxError,
# truncated pixel data is an OSError, a few codecs use ValueError or EOFError, and its warnings
# about corrupt metadata arrive as exceptions where warnings are errors (as in the tests).
_CORRUPT = (SyntaxError, OSError, ValueError, EOFError, struct.error, Warning)

# A resize whose full output is larger than this resizes only the cropped window instead,
# so a 1x50000 strip does not become a 224x11200000 intermediate (7.5 GB).
_FULL_RESIZE_MAX_PIXELS = 4096 * 4096
# Bytes per pixel of each mode as Pillow holds it in memory (3 and 4 bands both take 4).
_PIXEL_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2}
_RGB_BYTES = 4
# Transparent images this large are composited onto white in strips of rows, so the full-size
# temporaries (a white canvas, an RGBA copy, the composite) are never all alive at once.
_STRIPS_ABOVE_PIXELS = 1024 * 1024
_STRIP_ROWS = 256
# A TIFF with more strips or tiles than this is refused from its header: Pillow builds a
# Python object per strip (a million take seconds and hundreds of MB) before any pixel.
MAX_TIFF_STRIPS = 65536

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
_BICUBIC = 3  # PIL.Image.Resampling.BICUBIC, as Hugging Face configs spell it


def decode_image(data: bytes, *, max_pixels: int, exif_orientation: bool = False) -> Image.Image:
    """Decode an uploaded image in its own mode (first frame), refusing what we cannot use."""
    return load_image(open_image(data, max_pixels=max_pixels), exif_orientation=exif_orientation)


def open_image(data: bytes, *, max_pixels: int) -> ImageFile.ImageFile:
    """The image's header, checked against the limits before any pixel data is decoded."""
    if not data:
        raise InvalidImage("image is empty")
    limit = _pixel_limit(max_pixels)
    image = _open(data, limit)
    width, height = image.size
    if width * height > limit:
        raise ImageTooLarge(
            f"image is {width}x{height} = {width * height:,} pixels; {_over(limit)}"
        )
    if image.mode not in SUPPORTED_MODES:
        raise InvalidImage(f"unsupported pixel mode {image.mode!r} in {image.format} image")
    return image


def load_image(image: ImageFile.ImageFile, *, exif_orientation: bool = False) -> Image.Image:
    """Decodes the pixels of an opened image (rotated by its EXIF orientation if asked)."""
    try:
        image.load()
        if exif_orientation:
            return ImageOps.exif_transpose(image)
    except _CORRUPT as exc:
        raise InvalidImage(f"image data is truncated or corrupt ({image.format})") from exc
    return image


def decoding_bytes(image: Image.Image, *, exif_orientation: bool = False) -> int:
    """Memory decoding an opened image and making its RGB version may take at the peak: its
    pixels as Pillow holds them, plus an RGB copy unless it is RGB already or greyscale
    (resized before it is made RGB), and a rotated copy when EXIF orientation is applied.
    Known from the header, before decoding."""
    pixels = image.width * image.height
    own = _PIXEL_BYTES.get(image.mode, 4)
    total = pixels * own
    if image.mode not in ("RGB", "L") or "transparency" in image.info:
        total += pixels * _RGB_BYTES
    if exif_orientation:
        total += pixels * own
    return total


def _pixel_limit(max_pixels: int) -> int:
    """`max_pixels`, capped at Pillow's own `Image.MAX_IMAGE_PIXELS` (read, never changed).

    Above that Pillow warns from inside its loaders; refusing first keeps that from happening.
    """
    return min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)


def _over(limit: int) -> str:
    return f"the limit is {limit:,} pixels (IMAGE_MAX_PIXELS)"


def _open(data: bytes, limit: int) -> ImageFile.ImageFile:
    """Read the header with the loader of an accepted format, or say what the bytes are."""
    head = data[:16]
    name = _identify(head)
    loader = _LOADERS.get(name or "")
    if loader is None:
        if name is None:
            raise InvalidImage(
                f"not a recognized image (first bytes: {head[:8].hex()}); {_EXPECTED}"
            )
        raise InvalidImage(f"unsupported image format {name!r}; {_EXPECTED}")
    if name == "TIFF":
        _check_tiff_layout(data)
    try:
        return loader(BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # A GIF frame reaching past the logical screen grows the size inside Pillow's loader.
        raise ImageTooLarge(
            f"image is over {Image.MAX_IMAGE_PIXELS:,} pixels; {_over(limit)}"
        ) from exc
    except _CORRUPT as exc:
        raise InvalidImage(f"image data is truncated or corrupt ({name})") from exc


def _check_tiff_layout(data: bytes) -> None:
    """Refuses a TIFF whose first directory lists more than MAX_TIFF_STRIPS strips or tiles,
    reading only the directory's entries (Pillow would build every strip first)."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM") or data[2:4] not in (b"*\0", b"\0*"):
        return  # BigTIFF or something odd: Pillow decides
    order = "<" if data[:2] == b"II" else ">"
    (offset,) = struct.unpack_from(order + "I", data, 4)
    if offset + 2 > len(data):
        return
    (entries,) = struct.unpack_from(order + "H", data, offset)
    for index in range(min(entries, 4096)):
        at = offset + 2 + 12 * index
        if at + 12 > len(data):
            return
        tag, _, count = struct.unpack_from(order + "HHI", data, at)
        if tag in (273, 279, 324, 325) and count > MAX_TIFF_STRIPS:  # offsets, byte counts
            raise ImageTooLarge(
                f"TIFF image has {count:,} strips or tiles, more than {MAX_TIFF_STRIPS:,}"
            )


def _identify(head: bytes) -> str | None:
    """The format Pillow would recognize from the first bytes (its own magic-number tests)."""
    Image.init()
    for name in (*_LOADERS, *Image.OPEN):
        accept = Image.OPEN[name][1]
        if accept is not None and _accepts(accept, head):
            return name
    return None


def _accepts(accept: Callable[[bytes], object], head: bytes) -> bool:
    """A plugin's magic-number test; some raise on very short input (BMP's DIB test needs 4
    bytes), which only means "not this format"."""
    try:
        return accept(head) is True
    except Exception:  # struct.error, IndexError, ...: the bytes are not this format
        return False


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB as the reference processor sees it: transparency is composited onto white.

    Without transparency it is Pillow's `convert('RGB')`: L is replicated, CMYK uses the
    naive formula (no ICC profile), and 16-bit samples are clipped at 255, not scaled. An RGB
    image is returned as is (no copy: a 3000x2000 copy costs 5 ms). Compositing is per
    pixel, so a large image is composited strip by strip into its RGB result: the same
    pixels, with one strip's temporaries alive at a time instead of three full-size copies.
    """
    if not image.has_transparency_data:
        return image if image.mode == "RGB" else image.convert("RGB")
    if image.width * image.height <= _STRIPS_ABOVE_PIXELS:
        return _on_white(image)
    rgb = Image.new("RGB", image.size)
    for top in range(0, image.height, _STRIP_ROWS):
        box = (0, top, image.width, min(top + _STRIP_ROWS, image.height))
        rgb.paste(_on_white(image.crop(box)), box)
    return rgb


def _on_white(image: Image.Image) -> Image.Image:
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")


@dataclass(frozen=True)
class ClipConfig:
    """CLIP preprocessing: resize the shortest edge, centre-crop, rescale, normalize."""

    size: int = 224
    crop: tuple[int, int] = (224, 224)  # (height, width)
    rescale: float = 1 / 255
    mean: tuple[float, float, float] = CLIP_MEAN
    std: tuple[float, float, float] = CLIP_STD

    def __post_init__(self) -> None:
        if max(self.crop) > self.size:
            raise ConfigError(
                f"crop {self.crop} is larger than the resized shortest edge {self.size}"
            )

    @classmethod
    def from_preprocessor_config(cls, path: Path) -> ClipConfig:
        """Read a Hugging Face `preprocessor_config.json`, refusing what this pipeline lacks."""
        try:
            d = json.loads(path.read_text())
            if not isinstance(d, dict):
                raise ConfigError("not a JSON object")
            return _config_from_dict(d)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from exc
        except (ValueError, KeyError, TypeError) as exc:
            raise ConfigError(f"{path}: not a usable preprocessor config ({exc!r})") from exc
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def _config_from_dict(d: dict[str, Any]) -> ClipConfig:
    for step in ("do_resize", "do_center_crop", "do_rescale", "do_normalize", "do_convert_rgb"):
        if d.get(step, True) is not True:
            raise ConfigError(f"{step} is {d[step]!r}; only the full CLIP pipeline is supported")
    if d.get("resample", _BICUBIC) != _BICUBIC:
        raise ConfigError(f"resample is {d['resample']!r}; only 3 (bicubic) is supported")
    size = d.get("size", ClipConfig.size)
    if isinstance(size, dict):
        size = size["shortest_edge"]
    crop = d.get("crop_size", ClipConfig.crop[0])
    crop = (crop["height"], crop["width"]) if isinstance(crop, dict) else (crop, crop)
    return ClipConfig(
        size=int(size),
        crop=(int(crop[0]), int(crop[1])),
        rescale=float(d.get("rescale_factor", ClipConfig.rescale)),
        mean=_triple(d.get("image_mean", CLIP_MEAN)),
        std=_triple(d.get("image_std", CLIP_STD)),
    )


def _triple(values: list[float] | tuple[float, ...]) -> tuple[float, float, float]:
    r, g, b = (float(v) for v in values)
    return r, g, b


DEFAULT_CLIP = ClipConfig()


def resize_geometry(
    width: int, height: int, config: ClipConfig = DEFAULT_CLIP
) -> tuple[tuple[int, int], tuple[int, int]]:
    """(resized width, height) with the shortest edge at `size`, and the crop's (left, top).

    The long edge is `int(size * long / short)`, truncated, as Hugging Face computes it.
    """
    short, long = sorted((width, height))
    other = int(config.size * long / short)
    resized = (config.size, other) if width <= height else (other, config.size)
    crop_height, crop_width = config.crop
    return resized, ((resized[0] - crop_width) // 2, (resized[1] - crop_height) // 2)


def clip_pixels(image: Image.Image, config: ClipConfig = DEFAULT_CLIP) -> np.ndarray:
    """The model input for one image: float32 [3, crop height, crop width].

    A greyscale image is resized as it is and its one channel stands for all three: Pillow
    resamples every band with the same weights, so this is the RGB result bit for bit,
    without a full-size RGB copy (196 MB for a 7000x7000 scan)."""
    if image.mode == "L" and not image.has_transparency_data:
        grey = _resized_crop(image, config)
        planes = (grey, grey, grey)
    else:
        window = _resized_crop(to_rgb(image), config)
        planes = (window[..., 0], window[..., 1], window[..., 2])
    table = _normalized_values(config)
    pixels = np.empty((3, *planes[0].shape), dtype=np.float32)
    for channel, plane in enumerate(planes):
        np.take(table[channel], plane, out=pixels[channel])
    return pixels


@cache
def _normalized_values(config: ClipConfig) -> np.ndarray:
    """What rescaling and normalizing makes of each uint8 value, per channel: [3, 256] float32.

    Computed with the very operations transformers applies to every pixel (float64 rescale,
    float32 cast, float32 subtract and divide, each correctly rounded), so looking the values
    up is the same result bit for bit, about 7x faster than the arithmetic on 150,000 pixels
    (2.3 -> 0.3 ms at 224x224), with the GIL released throughout."""
    scaled = (np.arange(256, dtype=np.float64) * config.rescale).astype(np.float32)
    mean = np.asarray(config.mean, dtype=np.float32)[:, None]
    std = np.asarray(config.std, dtype=np.float32)[:, None]
    table: np.ndarray = (scaled[None, :] - mean) / std
    return table


def _resized_crop(rgb: Image.Image, config: ClipConfig) -> np.ndarray:
    """Bicubic resize (Pillow, uint8) then centre crop, as HxWx3 uint8.

    Pillow returns an unchanged copy when the size is already right. Past
    `_FULL_RESIZE_MAX_PIXELS` only the cropped window is resampled (Pillow's `box`): close to
    the full resize but not exact, as Pillow may then run its two passes in the other order.
    """
    (width, height), (left, top) = resize_geometry(*rgb.size, config)
    crop_height, crop_width = config.crop
    if width * height <= _FULL_RESIZE_MAX_PIXELS:
        resized = np.asarray(rgb.resize((width, height), Image.Resampling.BICUBIC))
        return resized[top : top + crop_height, left : left + crop_width]
    sx, sy = rgb.width / width, rgb.height / height
    box = (left * sx, top * sy, (left + crop_width) * sx, (top + crop_height) * sy)
    return np.asarray(rgb.resize((crop_width, crop_height), Image.Resampling.BICUBIC, box=box))
