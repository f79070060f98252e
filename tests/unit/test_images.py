"""Image decoding and CLIP preprocessing against transformers' reference values and bad inputs.

The reference (../shared/reference/images) was made by transformers' CLIPImageProcessor with
the same Pillow version, so every image, JPEG and WebP included, must match exactly.
"""

from __future__ import annotations

import hashlib
import json
import struct
import time
import zlib
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from nomic_serve.core import images
from nomic_serve.core.images import (
    DEFAULT_CLIP,
    ClipConfig,
    clip_pixels,
    decode_image,
    resize_geometry,
    to_rgb,
)
from nomic_serve.errors import ConfigError, ImageTooLarge, InvalidImage

from ..support.reference import SHARED_REFERENCE, unavailable

REFERENCE = SHARED_REFERENCE / "images"
MAX_PIXELS = 50_000_000
EXACT = 0.0  # bit for bit: the same float64 rescale, float32 cast, subtract and divide


def _manifest() -> list[dict]:
    path = REFERENCE / "manifest.json"
    return json.loads(path.read_text())["images"] if path.is_file() else []


MANIFEST = {entry["file"]: entry for entry in _manifest()}


@pytest.fixture(scope="module")
def reference() -> Path:
    if not MANIFEST:
        unavailable(f"reference images not found in {REFERENCE}")
    return REFERENCE


@pytest.fixture(scope="module")
def reference_pixels(reference: Path) -> dict[str, np.ndarray]:
    with np.load(reference / "clip_pixel_values.npz") as npz:
        return {name: npz[name][0] for name in npz.files}


def _decode(data: bytes, **kwargs: bool) -> Image.Image:
    return decode_image(data, max_pixels=MAX_PIXELS, **kwargs)


def _encoded(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def _sha256(array: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


@pytest.mark.parametrize("name", sorted(MANIFEST) or ["-"])
def test_reference_image_matches_processor(
    name: str, reference_pixels: dict[str, np.ndarray]
) -> None:
    entry = MANIFEST[name]
    image = _decode((REFERENCE / name).read_bytes())
    assert (image.format, image.mode, list(image.size)) == (
        entry["format"],
        entry["mode"],
        entry["size"],
    )
    assert _sha256(np.asarray(to_rgb(image))) == entry["decoded_rgb"]["sha256"]

    (width, height), (left, top) = resize_geometry(*image.size)
    resize = entry["resize"]
    assert [width, height] == resize["resized_size"]
    assert (left, top) == (resize["crop_left"], resize["crop_top"])
    resized = to_rgb(image).resize((width, height), Image.Resampling.BICUBIC)
    assert _sha256(np.asarray(resized)) == resize["resized_rgb_sha256"]

    pixels = clip_pixels(image)
    diff = np.abs(pixels.astype(np.float64) - reference_pixels[name])
    print(f"{name}: max abs {diff.max():.3g}, mean abs {diff.mean():.3g}")
    assert pixels.shape == (3, 224, 224)
    assert pixels.dtype == np.float32
    assert diff.max() <= EXACT


def test_window_resize_for_extreme_strips_stays_close(
    reference_pixels: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cropped-window resize (used past 16 Mpx) forced on the references: close, not exact.

    Pillow may run the two passes in the other order for a box, which moves a uint8 level
    here and there (a06, portrait: up to 7 levels, mean 0.002).
    """
    monkeypatch.setattr(images, "_FULL_RESIZE_MAX_PIXELS", 0)
    for name, expected in reference_pixels.items():
        pixels = clip_pixels(_decode((REFERENCE / name).read_bytes())).astype(np.float64)
        diff = np.abs(pixels - expected)
        cosine = (
            pixels.ravel() @ expected.ravel() / np.linalg.norm(pixels) / np.linalg.norm(expected)
        )
        print(f"{name}: window resize max abs {diff.max():.3g}, mean abs {diff.mean():.3g}")
        assert diff.mean() <= 0.005
        assert cosine >= 0.9999


def test_extreme_strip_is_preprocessed_without_a_huge_intermediate() -> None:
    strip = _encoded(Image.linear_gradient("L").resize((1, 60_000)), "PNG")
    started = time.perf_counter()
    pixels = clip_pixels(_decode(strip))
    assert pixels.shape == (3, 224, 224)
    assert time.perf_counter() - started < 2.0  # the full resize would be 224 x 13.4M pixels


def test_exif_orientation_is_off_by_default_and_transposes_when_asked(reference: Path) -> None:
    data = (reference / "a03_rgb_480x640.jpg").read_bytes()
    assert _decode(data).size == (480, 640)
    assert _decode(data).getexif()[0x0112] == 6
    assert _decode(data, exif_orientation=True).size == (640, 480)


# ---- ClipConfig --------------------------------------------------------------------------


def _write(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "preprocessor_config.json"
    path.write_text(json.dumps(config))
    return path


HF_CONFIG = {
    "do_resize": True,
    "size": {"shortest_edge": 224},
    "resample": 3,
    "do_center_crop": True,
    "crop_size": {"height": 224, "width": 224},
    "do_rescale": True,
    "rescale_factor": 0.00392156862745098,
    "do_normalize": True,
    "image_mean": [0.48145466, 0.4578275, 0.40821073],
    "image_std": [0.26862954, 0.26130258, 0.27577711],
    "do_convert_rgb": True,
}


def test_config_reads_both_size_forms(tmp_path: Path) -> None:
    assert ClipConfig.from_preprocessor_config(_write(tmp_path, HF_CONFIG)) == DEFAULT_CLIP
    short = {**HF_CONFIG, "size": 256, "crop_size": 240}
    config = ClipConfig.from_preprocessor_config(_write(tmp_path, short))
    assert (config.size, config.crop) == (256, (240, 240))
    assert resize_geometry(512, 1024, config) == ((256, 512), (8, 136))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"resample": 2}, r"only 3 \(bicubic\)"),
        ({"do_center_crop": False}, "do_center_crop is False"),
        ({"crop_size": 300}, "larger than the resized shortest edge"),
        ({"size": {"height": 224, "width": 224}}, "not a usable preprocessor config"),
    ],
)
def test_config_refuses_what_the_pipeline_would_get_wrong(
    tmp_path: Path, override: dict, message: str
) -> None:
    path = _write(tmp_path, {**HF_CONFIG, **override})
    with pytest.raises(ConfigError, match=message) as caught:
        ClipConfig.from_preprocessor_config(path)
    assert str(path) in str(caught.value)


def test_config_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        ClipConfig.from_preprocessor_config(tmp_path / "missing.json")


# ---- inputs that decode ------------------------------------------------------------------


def test_one_pixel_png_is_upscaled() -> None:
    image = _decode(_encoded(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG"))
    pixels = clip_pixels(image)
    assert pixels.shape == (3, 224, 224)
    expected = (np.array([1.0, 0.0, 0.0]) - DEFAULT_CLIP.mean) / DEFAULT_CLIP.std
    assert np.allclose(pixels[:, 100, 100], expected, atol=1e-6)


def test_animated_gif_uses_the_first_frame() -> None:
    frames = [Image.new("P", (32, 24), index) for index in range(3)]
    for frame, colour in zip(frames, [(200, 10, 10), (10, 200, 10), (10, 10, 200)], strict=True):
        frame.putpalette([*colour, 0, 0, 0] * 128)
    data = _encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    image = _decode(data)
    assert getattr(image, "n_frames", 1) == 3
    assert np.array_equal(np.asarray(to_rgb(image)), np.full((24, 32, 3), (200, 10, 10)))


def test_cmyk_jpeg_converts_like_pillow() -> None:
    data = _encoded(Image.linear_gradient("L").resize((64, 48)).convert("CMYK"), "JPEG")
    image = _decode(data)
    assert image.mode == "CMYK"
    with Image.open(BytesIO(data)) as pillow:
        assert np.array_equal(np.asarray(to_rgb(image)), np.asarray(pillow.convert("RGB")))


def test_sixteen_bit_png_is_clipped_not_scaled() -> None:
    values = np.array([[0, 100, 255, 256, 1000, 65535]], dtype=np.uint16)
    image = _decode(_encoded(Image.fromarray(values), "PNG"))
    assert image.mode == "I;16"
    assert np.asarray(to_rgb(image))[0, :, 0].tolist() == [0, 100, 255, 255, 255, 255]


def test_partial_alpha_is_composited_on_white() -> None:
    rgba = Image.new("RGBA", (4, 4), (0, 0, 0, 64))
    assert np.asarray(to_rgb(_decode(_encoded(rgba, "PNG"))))[0, 0].tolist() == [191] * 3


# ---- inputs that are refused -------------------------------------------------------------


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature and IHDR declaring a huge 1-bit image, with no pixel rows."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"", 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _noise(fmt: str) -> bytes:
    rng = np.random.default_rng(3)
    return _encoded(Image.fromarray(rng.integers(0, 256, (96, 128, 3), dtype=np.uint8)), fmt)


def _associated_alpha(tiff: bytes) -> bytes:
    """Rewrites ExtraSamples (tag 338) from 2 (unassociated) to 1, so Pillow reads mode 'La'."""
    entry = struct.pack("<HHII", 338, 3, 1, 2)
    assert tiff.count(entry) == 1
    return tiff.replace(entry, struct.pack("<HHII", 338, 3, 1, 1))


EXPECTED = "expected JPEG, PNG, GIF, WebP, BMP or TIFF"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html><body>not an image</body></html>", "not a recognized image (first bytes: 3c68"),
        (_encoded(Image.new("RGB", (16, 16)), "ICO"), "unsupported image format 'ICO'"),
        (_encoded(Image.new("RGB", (16, 16)), "PPM"), "unsupported image format 'PPM'"),
    ],
    ids=["html", "ico", "ppm"],
)
def test_refuses_other_formats_naming_what_is_accepted(data: bytes, message: str) -> None:
    with pytest.raises(InvalidImage) as caught:
        _decode(data)
    assert str(caught.value).startswith(message)
    assert str(caught.value).endswith(EXPECTED)


def test_refuses_empty_data() -> None:
    with pytest.raises(InvalidImage, match=r"^image is empty$"):
        _decode(b"")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_refuses_a_file_cut_in_half(fmt: str) -> None:
    data = _noise(fmt)
    assert _decode(data).size == (128, 96)
    with pytest.raises(InvalidImage, match=rf"^image data is truncated or corrupt \({fmt}\)$"):
        _decode(data[: len(data) // 2])


def test_refuses_a_mode_pillow_cannot_convert() -> None:
    data = _associated_alpha(_encoded(Image.new("LA", (4, 4)), "TIFF"))
    with pytest.raises(InvalidImage, match=r"^unsupported pixel mode 'La' in TIFF image$"):
        _decode(data)


def test_refuses_a_decompression_bomb_from_the_header_alone() -> None:
    bomb = _png_header_only(20_000, 20_000)
    assert len(bomb) < 100
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge) as caught:
        _decode(bomb)
    assert time.perf_counter() - started < 0.5
    assert str(caught.value) == (
        "image is 20000x20000 = 400,000,000 pixels; "
        "the limit is 50,000,000 pixels (IMAGE_MAX_PIXELS)"
    )


def test_pixel_limit_is_capped_at_pillows_own() -> None:
    """Above Image.MAX_IMAGE_PIXELS Pillow would warn; we refuse first, with no warning."""
    with pytest.raises(ImageTooLarge, match=f"the limit is {Image.MAX_IMAGE_PIXELS:,} pixels"):
        decode_image(_png_header_only(10_000, 10_000), max_pixels=10**9)


@pytest.mark.parametrize("side", [5_000, 10_000])
def test_gif_frame_larger_than_its_screen_is_refused(side: int) -> None:
    """Pillow grows a GIF to its first frame inside the loader (past its own limit at 10000:
    a DecompressionBombWarning, an exception here where warnings are errors); both refused."""
    screen = b"GIF89a" + struct.pack("<HHBBB", 1, 1, 0, 0, 0)
    frame = b"," + struct.pack("<HHHHB", 0, 0, side, side, 0) + b"\x02\x02\x44\x01\x00;"
    with pytest.raises(ImageTooLarge, match=r"the limit is 1,000,000 pixels \(IMAGE_MAX_PIXELS\)$"):
        decode_image(screen + frame, max_pixels=1_000_000)


# ---- the header, and what decoding it will cost -------------------------------------------


def _open(data: bytes) -> ImageFile.ImageFile:
    return images.open_image(data, max_pixels=MAX_PIXELS)


def test_open_image_reads_only_the_header() -> None:
    """Half a PNG opens (size and mode from the header) and is refused only when loaded."""
    data = _noise("PNG")
    opened = _open(data[: len(data) // 2])
    assert (opened.format, opened.mode, opened.size) == ("PNG", "RGB", (128, 96))
    assert images.decoding_bytes(opened) == 128 * 96 * 4
    with pytest.raises(InvalidImage, match=r"^image data is truncated or corrupt \(PNG\)$"):
        images.load_image(opened)


def test_load_image_applies_the_exif_orientation_only_when_asked() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    data = _encoded(Image.new("RGB", (40, 30), (10, 20, 30)), "JPEG", exif=exif.tobytes())
    assert images.load_image(_open(data)).size == (40, 30)
    assert images.load_image(_open(data), exif_orientation=True).size == (30, 40)


def _grey16() -> Image.Image:
    return Image.fromarray(np.arange(600, dtype=np.uint16).reshape(20, 30) * 100)


# (image as saved, save options, mode Pillow reads back, bytes per pixel as it holds them,
# whether the RGB version is a second copy)
DECODING_CASES = [
    (lambda: Image.new("L", (30, 20), 9), {}, "L", 1, False),
    (lambda: Image.new("L", (30, 20), 9), {"transparency": 9}, "L", 1, True),
    (lambda: Image.new("1", (30, 20), 1), {}, "1", 1, True),
    (lambda: Image.new("P", (30, 20), 3), {}, "P", 1, True),
    (lambda: Image.new("P", (30, 20), 3), {"transparency": 3}, "P", 1, True),
    (_grey16, {}, "I;16", 2, True),
    (lambda: Image.new("RGB", (30, 20), (1, 2, 3)), {}, "RGB", 4, False),
    (lambda: Image.new("RGB", (30, 20), (1, 2, 3)), {"transparency": (1, 2, 3)}, "RGB", 4, True),
    (lambda: Image.new("RGBA", (30, 20), (1, 2, 3, 4)), {}, "RGBA", 4, True),
    (lambda: Image.new("LA", (30, 20), (1, 2)), {}, "LA", 4, True),
]


@pytest.mark.parametrize(
    ("make", "options", "mode", "own", "rgb_copy"),
    DECODING_CASES,
    ids=[f"{case[2]}{'-transparent' if case[1] else ''}" for case in DECODING_CASES],
)
def test_decoding_bytes_counts_pixels_as_pillow_holds_them(
    make: Callable[[], Image.Image], options: dict, mode: str, own: int, rgb_copy: bool
) -> None:
    opened = _open(_encoded(make(), "PNG", **options))
    assert opened.mode == mode
    pixels = 30 * 20
    expected = pixels * (own + (4 if rgb_copy else 0))
    assert images.decoding_bytes(opened) == expected
    assert images.decoding_bytes(opened, exif_orientation=True) == expected + pixels * own


def test_decoding_bytes_of_a_cmyk_jpeg() -> None:
    opened = _open(_encoded(Image.new("CMYK", (64, 48)), "JPEG"))
    assert opened.mode == "CMYK"
    assert images.decoding_bytes(opened) == 64 * 48 * (4 + 4)


# ---- to_rgb: transparent images composited strip by strip ----------------------------------


def _on_white_reference(image: Image.Image) -> Image.Image:
    """The whole image composited at once, as CLIPImageProcessor's convert_rgb does."""
    white = Image.new("RGBA", image.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, image.convert("RGBA")).convert("RGB")


def _transparent(kind: str, size: tuple[int, int] = (1300, 1500)) -> Image.Image:
    rng = np.random.default_rng(len(kind))
    width, height = size
    if kind in ("RGBA", "LA"):
        bands = 4 if kind == "RGBA" else 2
        pixels = rng.integers(0, 256, size=(height, width, bands), dtype=np.uint8)
        pixels[: height // 3, :, -1] = 255  # opaque, partial and clear regions
        pixels[height // 3 : height // 2, :, -1] = 0
        return Image.fromarray(pixels, kind)
    if kind.startswith("P"):
        image = Image.fromarray(rng.integers(0, 256, size=(height, width), dtype=np.uint8), "P")
        image.putpalette(rng.integers(0, 256, size=768, dtype=np.uint8).tobytes())
        if kind == "P":
            image.info["transparency"] = 7  # one clear palette entry
        else:  # one alpha per palette entry
            image.info["transparency"] = rng.integers(0, 256, 256, dtype=np.uint8).tobytes()
        return image
    if kind == "RGB-tRNS":
        pixels = rng.integers(0, 4, size=(height, width, 3), dtype=np.uint8) * 85
        image = Image.fromarray(pixels, "RGB")
        image.info["transparency"] = (85, 170, 0)
        return image
    assert kind == "L-tRNS"
    image = Image.fromarray(rng.integers(0, 4, size=(height, width), dtype=np.uint8) * 85, "L")
    image.info["transparency"] = 85
    return image


TRANSPARENT_KINDS = ["RGBA", "LA", "P", "P-alpha", "RGB-tRNS", "L-tRNS"]


@pytest.mark.parametrize("kind", TRANSPARENT_KINDS)
def test_a_large_transparent_image_composited_in_strips_is_bit_identical(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = _transparent(kind)
    assert image.width * image.height > 1024 * 1024
    assert image.has_transparency_data
    composited: list[tuple[int, int]] = []
    on_white = images._on_white

    def recording(part: Image.Image) -> Image.Image:
        composited.append(part.size)
        return on_white(part)

    monkeypatch.setattr(images, "_on_white", recording)
    rgb = to_rgb(image)
    assert rgb.mode == "RGB" and rgb.size == image.size
    assert np.array_equal(np.asarray(rgb), np.asarray(_on_white_reference(image)))
    # Never the whole image at once: strips of 256 rows, the last one shorter.
    assert composited == [(1300, 256)] * 5 + [(1300, 1500 - 5 * 256)]


@pytest.mark.parametrize("kind", TRANSPARENT_KINDS)
def test_a_small_transparent_image_is_composited_whole(kind: str) -> None:
    image = _transparent(kind, size=(300, 200))
    assert np.array_equal(np.asarray(to_rgb(image)), np.asarray(_on_white_reference(image)))


def test_an_rgb_image_is_returned_as_is() -> None:
    image = Image.new("RGB", (8, 8), (1, 2, 3))
    assert to_rgb(image) is image


# ---- clip_pixels: greyscale is resized before it is made RGB -------------------------------


@pytest.mark.parametrize(
    "size",
    [
        (640, 480),
        (333, 1001),
        (7, 3),
        (224, 224),
        (5000, 300),  # a side over 4096
        (300, 5000),
        (4500, 4200),
        (225, 10_000),
        (1, 80_000),  # the cropped-window resize: the full one would be 224 x 17.9M
        (80_000, 3),
    ],
)
def test_greyscale_preprocessing_is_bit_identical_to_converting_to_rgb_first(
    size: tuple[int, int],
) -> None:
    width, height = size
    rng = np.random.default_rng(width * 31 + height)
    y, x = np.mgrid[0:height, 0:width]
    pixels = ((x * 7 + y * 13) % 256).astype(np.uint8) ^ rng.integers(
        0, 32, (height, width), np.uint8
    )
    grey = Image.fromarray(pixels, "L")
    ours = clip_pixels(grey)
    assert ours.shape == (3, 224, 224) and ours.dtype == np.float32
    assert np.array_equal(ours, clip_pixels(grey.convert("RGB")))


def test_greyscale_preprocessing_never_makes_a_full_size_rgb_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    grey = Image.fromarray(np.arange(256, dtype=np.uint8).reshape(16, 16).repeat(200, 0), "L")
    converted: list[str] = []
    convert = Image.Image.convert

    def recording(
        self: Image.Image, mode: str | None = None, *args: object, **kw: object
    ) -> Image.Image:
        converted.append(f"{self.mode}->{mode} {self.size}")
        return convert(self, mode, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Image.Image, "convert", recording)
    clip_pixels(grey)
    assert converted == []


def test_transparent_greyscale_is_composited_on_white_like_every_other_mode() -> None:
    """CLIPImageProcessor composites every non-RGB image on white, so a greyscale PNG with a
    transparent grey level must give what its composited RGB version gives."""
    grey = _transparent("L-tRNS", size=(400, 300))
    assert np.array_equal(clip_pixels(grey), clip_pixels(to_rgb(grey)))


# ---- TIFF strips refused from the directory ------------------------------------------------


def _tiff(width: int, height: int, rows_per_strip: int, order: str = ">") -> tuple[bytes, bytes]:
    """An uncompressed 8-bit greyscale TIFF, written entry by entry, and its pixel bytes: one
    directory, then the strip offsets and byte counts (LONG arrays), then the pixels."""
    strips = -(-height // rows_per_strip)
    pixels = (np.arange(width * height, dtype=np.uint32) * 7 % 256).astype(np.uint8).tobytes()
    entries = 9
    offsets_at = 8 + 2 + 12 * entries + 4
    counts_at = offsets_at + 4 * strips
    pixels_at = counts_at + 4 * strips
    strip_bytes = width * rows_per_strip
    offsets = [pixels_at + strip * strip_bytes for strip in range(strips)]
    counts = [min(strip_bytes, len(pixels) - strip * strip_bytes) for strip in range(strips)]

    def entry(tag: int, kind: int, count: int, value: int) -> bytes:
        if kind == 3:  # SHORT: left-justified in the 4-byte value field
            return struct.pack(order + "HHIHH", tag, kind, count, value, 0)
        return struct.pack(order + "HHII", tag, kind, count, value)

    def array(values: list[int], at: int) -> int:
        return values[0] if len(values) == 1 else at  # one LONG is stored in the entry itself

    directory = [
        entry(256, 4, 1, width),  # ImageWidth
        entry(257, 4, 1, height),  # ImageLength
        entry(258, 3, 1, 8),  # BitsPerSample
        entry(259, 3, 1, 1),  # Compression: none
        entry(262, 3, 1, 1),  # PhotometricInterpretation: black is zero
        entry(273, 4, strips, array(offsets, offsets_at)),  # StripOffsets
        entry(277, 3, 1, 1),  # SamplesPerPixel
        entry(278, 4, 1, rows_per_strip),  # RowsPerStrip
        entry(279, 4, strips, array(counts, counts_at)),  # StripByteCounts
    ]
    head = (b"MM\0*" if order == ">" else b"II*\0") + struct.pack(order + "I", 8)
    ifd = struct.pack(order + "H", entries) + b"".join(directory) + struct.pack(order + "I", 0)
    arrays = struct.pack(f"{order}{strips}I", *offsets) + struct.pack(f"{order}{strips}I", *counts)
    data = head + ifd + arrays + pixels
    assert len(data) == pixels_at + len(pixels)
    return data, pixels


@pytest.mark.parametrize("order", [">", "<"], ids=["big-endian", "little-endian"])
def test_a_tiff_with_too_many_strips_is_refused_from_its_directory(
    order: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, _ = _tiff(4, 70_000, rows_per_strip=1, order=order)
    assert images.MAX_TIFF_STRIPS < 70_000

    def never(*args: object) -> None:
        pytest.fail("Pillow's TIFF loader ran on a TIFF refused from its directory")

    monkeypatch.setitem(images._LOADERS, "TIFF", never)
    with pytest.raises(ImageTooLarge) as caught:
        _decode(data)
    assert str(caught.value) == "TIFF image has 70,000 strips or tiles, more than 65,536"


@pytest.mark.parametrize(
    ("height", "rows_per_strip"),
    [(1000, 1), (images.MAX_TIFF_STRIPS, 1), (70_000, 7), (1, 1)],
    ids=["1000-strips", "at-the-limit", "10000-strips", "one-strip"],
)
def test_a_tiff_with_a_normal_strip_count_decodes(height: int, rows_per_strip: int) -> None:
    data, pixels = _tiff(4, height, rows_per_strip)
    image = _decode(data)
    assert (image.format, image.mode, image.size) == ("TIFF", "L", (4, height))
    assert image.tobytes() == pixels
