"""EXIF against the real exiftool and the written ground truth; colours against the reference
colour oracle and against independent (per-pixel, colorsys) computations written here."""

from __future__ import annotations

import colorsys
import io
import json
import random
import shutil
import subprocess
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational, ImageFileDirectory_v2

from nomic_serve.errors import InvalidImage, InvalidInput
from nomic_serve.imagestats import ColorStats, color_stats
from nomic_serve.imagestats import read_exif as read_exif_data
from nomic_serve.imagestats.colors import rgb_hex, thumbnail_size
from nomic_serve.imagestats.exif import (
    MAX_BLOCK_BYTES,
    MAX_TOTAL_BYTES,
    MAX_VALUE_BYTES,
    ExifData,
)

from ..hostile.payloads import exif_array_png, exif_many_tags_png, exif_string_png
from ..support.reference import SHARED_REFERENCE, reference_file, unavailable

IMAGES = SHARED_REFERENCE / "images"
MANIFEST = IMAGES / "manifest.json"
ENTRIES = (
    {entry["file"]: entry for entry in json.loads(MANIFEST.read_text())["images"]}
    if MANIFEST.is_file()
    else {}
)
# Without the reference data each list is one placeholder, so the tests still run (and skip,
# or fail in CI) instead of being collected as an empty parameter set.
WITH_EXIF = sorted(name for name, entry in ENTRIES.items() if entry["exif_written"]) or ["-"]
WITHOUT_EXIF = sorted(n for n, entry in ENTRIES.items() if not entry["exif_written"]) or ["-"]
ALL_IMAGES = sorted(ENTRIES) or ["-"]
EXIFTOOL = shutil.which("exiftool")
# Our names (Pillow's ExifTags, the original service's) where exiftool says something else.
EXIFTOOL_NAMES = {
    "DateTime": "ModifyDate",
    "DateTimeDigitized": "CreateDate",
    "ExposureBiasValue": "ExposureCompensation",
    "FocalLengthIn35mmFilm": "FocalLengthIn35mmFormat",
    "ISOSpeedRatings": "ISO",
    "LensSpecification": "LensInfo",
}
GPS_KEYS = {"GPSLatitude", "GPSLongitude", "GPSAltitude"}


def read_exif(image: Image.Image) -> dict[str, object]:
    """The tags read_exif reports; these tests never reach the size caps."""
    found = read_exif_data(image)
    assert found.omitted == []
    return found.tags


def _entry(name: str) -> dict:
    reference_file("images", "manifest.json")
    return ENTRIES[name]


def open_image(path: Path) -> Image.Image:
    """Opened from bytes, as the server does, so no file handle is left open."""
    return Image.open(io.BytesIO(path.read_bytes()))


def open_reference(name: str) -> Image.Image:
    return open_image(reference_file("images", name))


def run_exiftool(path: Path) -> dict:
    if EXIFTOOL is None:
        unavailable("exiftool is not installed (Debian package libimage-exiftool-perl)")
    result = subprocess.run(
        [EXIFTOOL, "-j", "-n", str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(result.stdout)[0]


def assert_agrees_with_exiftool(ours: dict[str, object], theirs: dict) -> None:
    """Every tag we report is reported by exiftool -n with the same value."""
    for name, value in ours.items():
        key = EXIFTOOL_NAMES.get(name, name)
        assert key in theirs, f"{name} ({key}) is not in exiftool's output"
        expected = theirs[key]
        if isinstance(value, str):
            assert value == expected, name
        elif isinstance(value, list):  # exiftool -n joins list values with spaces
            assert value == pytest.approx([float(x) for x in expected.split()], rel=1e-6), name
        elif name in GPS_KEYS:
            assert value == pytest.approx(expected, abs=1e-6), name
        else:
            assert value == pytest.approx(expected, rel=1e-6, abs=1e-12), name


# --- EXIF --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", WITH_EXIF)
def test_exif_agrees_with_exiftool(name: str) -> None:
    ours = read_exif(open_reference(name))
    theirs = run_exiftool(IMAGES / name)
    assert_agrees_with_exiftool(ours, theirs)
    if theirs.get("GPSLatitude") == theirs.get("GPSLongitude") == 0:
        assert not GPS_KEYS & set(ours)  # a03: a 0,0 fix is dropped


@pytest.mark.parametrize("name", WITH_EXIF)
def test_exif_matches_what_was_written(name: str) -> None:
    written = dict(_entry(name)["exif_written"])
    ours = read_exif(open_reference(name))
    gps = written.pop("GPS", None)
    for key, value in written.items():
        rational = isinstance(value, list)  # piexif's [numerator, denominator]
        expected = pytest.approx(value[0] / value[1], rel=1e-12) if rational else value
        assert ours[key] == expected, key
    expected_keys = set(written)
    if gps and any(gps["expected_decimal"]):
        latitude, longitude = gps["expected_decimal"]
        assert ours["GPSLatitude"] == pytest.approx(latitude, abs=1e-6)
        assert ours["GPSLongitude"] == pytest.approx(longitude, abs=1e-6)
        expected_keys |= {"GPSLatitude", "GPSLongitude"}
    assert set(ours) == expected_keys


def test_exif_of_a02_is_exactly_the_camera_tags_and_position() -> None:
    assert read_exif(open_reference("a02_rgb_640x480.jpg")) == {
        "Make": "Canon",
        "Model": "Canon EOS 5D Mark IV",
        "Orientation": 1,
        "DateTime": "2023:07:14 09:26:53",
        "ExposureTime": 0.004,
        "FNumber": 2.8,
        "ISOSpeedRatings": 400,
        "GPSLatitude": pytest.approx(37.7749, abs=1e-9),
        "GPSLongitude": pytest.approx(-122.4194, abs=1e-9),
    }


@pytest.mark.parametrize("name", WITHOUT_EXIF)
def test_images_without_exif_give_nothing(name: str) -> None:
    """a12 is a TIFF: its IFD0 only describes the file's strips, which is not metadata."""
    assert read_exif(open_reference(name)) == {}


def rich_exif_jpeg(path: Path) -> Path:
    """A JPEG with the odd values cameras write: padding, signed and 0/0 rationals, blobs."""
    exif = Image.Exif()
    exif[0x010F] = "Canon\0\0\0"  # Make, NUL padded
    exif[0x0110] = "EOS R5   "  # Model, space padded
    exif[0x0131] = "Café".encode()  # Software, UTF-8
    exif[0x011A] = IFDRational(300, 1)  # XResolution
    exif[0x0128] = 2  # ResolutionUnit
    exif[0x013B] = ""  # Artist, empty: skipped
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = IFDRational(1, 125)  # ExposureTime
    sub[0x829D] = IFDRational(56, 10)  # FNumber
    sub[0x8827] = 800  # ISOSpeedRatings
    sub[0x9003] = "2024:05:06 07:08:09"  # DateTimeOriginal
    sub[0x9004] = "2024:05:06 07:08:09"  # DateTimeDigitized
    sub[0x9204] = IFDRational(-2, 3)  # ExposureBiasValue, signed
    sub[0x920A] = IFDRational(50, 1)  # FocalLength
    sub[0xA405] = 75  # FocalLengthIn35mmFilm
    sub[0xA404] = IFDRational(0, 0)  # DigitalZoomRatio 0/0: skipped
    sub[0x9000] = b"0232"  # ExifVersion, printable UNDEFINED
    sub[0x9101] = b"\x01\x02\x03\x00"  # ComponentsConfiguration, not printable: skipped
    sub[0x9286] = b"ASCII\0\0\0Sunset at the pier  "  # UserComment
    sub[0x927C] = b"Nikon\0\x02\x10\0\0MM\0*\0\0\0\x08"  # MakerNote: skipped
    sub[0xA432] = tuple(IFDRational(v, 1) for v in (24, 105, 4, 4))  # LensSpecification
    sub[0xA434] = "RF24-105mm F4 L IS USM"  # LensModel
    gps = exif.get_ifd(0x8825)
    gps[0] = b"\x02\x03\x00\x00"
    gps[1], gps[2] = "N", (IFDRational(48, 1), IFDRational(51, 1), IFDRational(2988, 100))
    gps[3], gps[4] = "E", (IFDRational(2, 1), IFDRational(17, 1), IFDRational(4020, 100))
    gps[5], gps[6] = b"\x01", IFDRational(4255, 10)  # 425.5 m below sea level
    Image.new("RGB", (16, 16), "blue").save(path, exif=exif.tobytes())
    return path


def test_odd_exif_values_agree_with_exiftool(tmp_path: Path) -> None:
    path = rich_exif_jpeg(tmp_path / "rich.jpg")
    ours = read_exif(open_image(path))
    assert ours == {
        "Make": "Canon",
        "Model": "EOS R5",
        "Software": "Café",
        "XResolution": 300.0,
        "ResolutionUnit": 2,
        "ExposureTime": 0.008,
        "FNumber": 5.6,
        "ISOSpeedRatings": 800,
        "DateTimeOriginal": "2024:05:06 07:08:09",
        "DateTimeDigitized": "2024:05:06 07:08:09",
        "ExposureBiasValue": pytest.approx(-2 / 3),
        "FocalLength": 50.0,
        "FocalLengthIn35mmFilm": 75,
        "ExifVersion": "0232",
        "UserComment": "Sunset at the pier",
        "LensSpecification": [24.0, 105.0, 4.0, 4.0],
        "LensModel": "RF24-105mm F4 L IS USM",
        "GPSLatitude": pytest.approx(48.8583, abs=1e-9),
        "GPSLongitude": pytest.approx(2.2945, abs=1e-9),
        "GPSAltitude": -425.5,
    }
    assert all(type(ours[k]) is int for k in ("ResolutionUnit", "ISOSpeedRatings"))
    assert_agrees_with_exiftool(ours, run_exiftool(path))


def test_unicode_user_comment_follows_the_byte_order() -> None:
    for endian, codec in (("<", "utf-16-le"), (">", "utf-16-be")):
        exif = Image.Exif()
        exif.endian = endian
        exif.get_ifd(0x8769)[0x9286] = b"UNICODE\0" + "Grüße".encode(codec)
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, "JPEG", exif=exif.tobytes())
        assert read_exif(Image.open(buffer)) == {"UserComment": "Grüße"}


def jpeg_with_exif(raw: bytes) -> Image.Image:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG", exif=raw)
    return Image.open(buffer)


def test_garbage_exif_gives_nothing() -> None:
    assert read_exif(jpeg_with_exif(b"Exif\0\0this is not a TIFF header")) == {}
    assert read_exif(Image.new("RGB", (8, 8))) == {}


@pytest.mark.filterwarnings("ignore::UserWarning")  # Pillow's "Corrupt EXIF data" warnings
def test_truncated_exif_gives_what_could_be_read() -> None:
    source = open_reference("a02_rgb_640x480.jpg")
    raw, full = source.info["exif"], read_exif(source)
    for length in range(len(raw)):
        partial = read_exif(jpeg_with_exif(raw[:length]))
        assert partial == {name: full[name] for name in partial}, length


def test_a_broken_gps_pointer_keeps_the_other_tags() -> None:
    source = open_reference("a02_rgb_640x480.jpg")
    pointer = b"\x88\x25\x00\x04\x00\x00\x00\x01"  # GPSInfo, LONG, count 1 (big-endian file)
    raw = source.info["exif"].replace(pointer + b"\x00\x00\x00\xbb", pointer + b"\x7f" * 4)
    assert raw != source.info["exif"]
    expected = {k: v for k, v in read_exif(source).items() if k not in GPS_KEYS}
    assert read_exif(jpeg_with_exif(raw)) == expected


# --- colours -----------------------------------------------------------------------------


def reference_stats(image: Image.Image) -> dict[str, np.ndarray] | None:
    """The colour rule written out independently: per-pixel colorsys, plain numpy means."""
    width, height = image.size
    if width > 512 or height > 512:
        size = (
            (512, int(height * 512 / width)) if width > height else (int(width * 512 / height), 512)
        )
        image = image.copy()
        image.thumbnail(size, Image.Resampling.LANCZOS)
    pixels = np.asarray(image.convert("RGBA")).reshape(-1, 4)
    kept = pixels[pixels[:, 3] >= 128, :3]
    if len(kept) == 0:
        return None
    x = kept / 255.0
    colours, counts = np.unique(kept, axis=0, return_counts=True)
    population: dict[tuple[int, int, int], int] = {}
    members: dict[tuple[int, int, int], list[np.ndarray]] = {}
    for colour, count in zip(colours, counts, strict=True):
        hsv = colorsys.rgb_to_hsv(*(float(c) / 255 for c in colour))
        key = tuple(min(int(c * 10), 9) for c in hsv)
        population[key] = population.get(key, 0) + int(count)
        members.setdefault(key, []).append(np.repeat(colour[None, :], count, axis=0))
    best = min(population, key=lambda key: (-population[key], key))
    return {
        "arithmetic": x.mean(axis=0),
        "geometric": np.exp(np.log(np.maximum(x, 1e-8)).mean(axis=0)),
        "dominant": np.concatenate(members[best]).mean(axis=0) / 255.0,
    }


def assert_matches_reference(image: Image.Image) -> None:
    expected = reference_stats(image)
    assert expected is not None
    for method in ("arithmetic", "geometric"):
        stats = color_stats(image, method)
        assert stats is not None
        assert stats.method == method
        np.testing.assert_allclose(stats.avg_rgb, expected[method], rtol=0, atol=1e-12)
        np.testing.assert_allclose(stats.dominant_rgb, expected["dominant"], rtol=0, atol=1e-12)
        assert stats.avg_hex == rgb_hex(expected[method])
        assert stats.dominant_hex == rgb_hex(expected["dominant"])


@pytest.mark.parametrize("name", ALL_IMAGES)
def test_color_means_match_the_oracle(name: str) -> None:
    oracle = _entry(name)["color"]
    for method in ("arithmetic", "geometric"):
        stats = color_stats(open_reference(name), method)
        assert stats is not None
        expected = oracle[f"{method}_mean_rgb"]
        np.testing.assert_allclose(stats.avg_rgb, expected, rtol=0, atol=1e-6)


def synthetic_rgba(seed: int, size: tuple[int, int]) -> Image.Image:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(size[1], size[0], 4), dtype=np.uint8)
    pixels[:, :, :3] //= 64  # few colours, so bins are well populated
    pixels[:, :, :3] *= 85
    pixels[0, 0, :3] = 0  # zeros: the geometric mean's epsilon matters
    return Image.fromarray(pixels, "RGBA")


def test_small_rgba_matches_an_independent_computation() -> None:
    image = synthetic_rgba(3, (40, 30))
    assert_matches_reference(image)
    pixels = np.asarray(image).reshape(-1, 4)
    kept = pixels[pixels[:, 3] >= 128, :3] / 255.0
    stats = color_stats(image, "arithmetic")
    assert stats is not None
    np.testing.assert_allclose(stats.avg_rgb, kept.mean(axis=0), rtol=0, atol=1e-12)


def test_alpha_threshold_is_128() -> None:
    pixels = np.array([[[255, 0, 0, 127], [0, 0, 255, 128]]], dtype=np.uint8)
    stats = color_stats(Image.fromarray(pixels, "RGBA"), "arithmetic")
    assert stats is not None
    assert stats.avg_rgb == (0.0, 0.0, 1.0)
    assert stats.dominant_hex == "#0000ff"


def test_fully_transparent_image_has_no_colours() -> None:
    assert color_stats(Image.new("RGBA", (600, 20), (255, 0, 0, 127)), "geometric") is None
    assert color_stats(Image.new("LA", (4, 4), (200, 0)), "arithmetic") is None


def test_dominant_is_the_mean_of_its_bin() -> None:
    # 190 and 200 share the bin (h 0, s 9, v 7); blue is alone in its bin.
    pixels = np.array([[[190, 0, 0], [200, 0, 0], [0, 0, 255]]], dtype=np.uint8)
    stats = color_stats(Image.fromarray(pixels, "RGB"), "arithmetic")
    assert stats == ColorStats(
        avg_rgb=(130 / 255, 0.0, 1 / 3),
        avg_hex="#820055",
        method="arithmetic",
        dominant_rgb=(195 / 255, 0.0, 0.0),
        dominant_hex="#c30000",
    )


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        ((255, 0, 0), (0, 255, 0), "#ff0000"),  # bins 99 and 399
        ((0, 0, 255), (0, 255, 0), "#00ff00"),  # bins 699 and 399
        ((255, 0, 0), (0, 0, 0), "#000000"),  # bins 99 and 0
    ],
)
def test_ties_go_to_the_lowest_bin_whatever_the_order(
    first: tuple[int, int, int], second: tuple[int, int, int], winner: str
) -> None:
    for row in ([first, second, first, second], [second, second, first, first]):
        image = Image.fromarray(np.array([row], dtype=np.uint8), "RGB")
        stats = color_stats(image, "geometric")
        assert stats is not None
        assert stats.dominant_hex == winner


def test_hex_rounds_half_up_like_the_original_readme() -> None:
    assert rgb_hex((0.5, 0.3, 0.2)) == "#804d33"
    assert rgb_hex((0.6, 0.4, 0.3)) == "#99664d"
    assert rgb_hex((1.2, -0.1, 1.0)) == "#ff00ff"
    assert rgb_hex((0.0, 1 / 255, 254.49 / 255)) == "#0001fe"


def test_unknown_method_is_refused() -> None:
    with pytest.raises(InvalidInput, match="arithmetic, geometric"):
        color_stats(Image.new("RGB", (2, 2)), "median")


def test_unconvertible_mode_is_an_invalid_image() -> None:
    with pytest.raises(InvalidImage):
        color_stats(Image.new("La", (2, 2)), "arithmetic")


def test_extreme_aspect_ratio_does_not_break_the_thumbnail() -> None:
    stats = color_stats(Image.new("RGB", (4000, 1), (10, 20, 30)), "arithmetic")
    assert stats is not None
    assert stats.avg_hex == "#0a141e"


# --- held out: images made here, checked against reference_stats ------------------------


def test_large_rgba_with_alpha() -> None:
    rng = np.random.default_rng(11)
    height, width = 640, 900
    y, x = np.mgrid[0:height, 0:width]
    pixels = np.zeros((height, width, 4), dtype=np.uint8)
    pixels[..., 0] = x * 255 // width
    pixels[..., 1] = y * 255 // height
    pixels[..., 2] = rng.integers(0, 256, size=(height, width))
    pixels[..., 3] = np.where((x - 450) ** 2 + (y - 320) ** 2 < 250**2, 255, x * 255 // width)
    image = Image.fromarray(pixels, "RGBA")
    assert_matches_reference(image)
    assert image.size == (900, 640)  # the caller's image is not resized in place


def test_palette_gif_with_transparency(tmp_path: Path) -> None:
    rng = np.random.default_rng(12)
    indices = rng.integers(0, 32, size=(420, 700), dtype=np.uint8)
    indices[100:300, 200:500] = 31
    image = Image.fromarray(indices, "P")
    image.putpalette(rng.integers(0, 256, size=32 * 3, dtype=np.uint8).tobytes())
    path = tmp_path / "held_out.gif"
    image.save(path, transparency=31)
    reopened = open_image(path)
    assert reopened.mode == "P"
    assert reopened.info["transparency"] == 31
    assert_matches_reference(reopened)


def test_grayscale() -> None:
    y, x = np.mgrid[0:300, 0:800]
    pixels = ((x * 3 + y * 5) % 256).astype(np.uint8)
    assert_matches_reference(Image.fromarray(pixels, "L"))


# --- EXIF size caps (tags too large to decode, blocks too large to read) -----------------


def open_png(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


@pytest.fixture
def decoded_tags(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every tag whose value Pillow decodes (values are decoded on access, one by one)."""
    accessed: list[int] = []
    original = ImageFileDirectory_v2.__getitem__

    def recording(self: ImageFileDirectory_v2, tag: int) -> object:
        accessed.append(tag)
        return original(self, tag)

    monkeypatch.setattr(ImageFileDirectory_v2, "__getitem__", recording)
    return accessed


def test_a_tag_over_the_value_cap_is_omitted_and_never_decoded(decoded_tags: list[int]) -> None:
    """3000 SHORTs are 6000 stored bytes, over MAX_VALUE_BYTES (4096)."""
    found = read_exif_data(open_png(exif_array_png(3000)))
    assert found.tags == {}
    assert found.omitted == ["YCbCrSubSampling"]
    assert 0x0212 not in decoded_tags


def test_a_tag_at_the_value_cap_is_reported() -> None:
    """2048 SHORTs are exactly MAX_VALUE_BYTES: decoded and reported in full."""
    assert MAX_VALUE_BYTES == 2 * 2048
    found = read_exif_data(open_png(exif_array_png(2048)))
    assert found.omitted == []
    assert found.tags == {"YCbCrSubSampling": [1] * 2048}
    found = read_exif_data(open_png(exif_array_png(2049)))
    assert (found.tags, found.omitted) == ({}, ["YCbCrSubSampling"])


def test_an_oversized_string_is_omitted() -> None:
    found = read_exif_data(open_png(exif_string_png(10_000)))
    assert (found.tags, found.omitted) == ({}, ["ImageDescription"])


def read_exif_traced(image: Image.Image) -> tuple[ExifData, int]:
    """What read_exif_data finds, and the most memory it held at once."""
    tracemalloc.start()
    try:
        return read_exif_data(image), tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_large_array_under_the_block_cap_is_never_turned_into_python_objects(
    decoded_tags: list[int],
) -> None:
    """500,000 SHORTs (a 1 MB block, just under MAX_BLOCK_BYTES): decoded, the tuple alone
    would take 4 MB; the peak stays at the copies of the block Pillow makes to read it."""
    image = open_png(exif_array_png(500_000))
    block = len(image.info["exif"])
    assert block <= MAX_BLOCK_BYTES
    found, peak = read_exif_traced(image)
    assert (found.tags, found.omitted) == ({}, ["YCbCrSubSampling"])
    assert 0x0212 not in decoded_tags
    assert peak < 3 * block < 500_000 * 8  # 8 bytes: one pointer per item of a decoded tuple


def test_an_exif_block_over_the_block_cap_is_not_read_at_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """2,000,000 SHORTs: a 4 MB block. Nothing of it is parsed: not even its directory."""
    image = open_png(exif_array_png(2_000_000))
    assert len(image.info["exif"]) > MAX_BLOCK_BYTES

    def never(*args: object) -> None:
        pytest.fail("an oversized EXIF block was parsed")

    monkeypatch.setattr(image, "getexif", never)
    found, peak = read_exif_traced(image)
    assert found.tags == {}
    assert found.omitted == ["EXIF"]
    assert peak < 64 * 1024  # a decoded tuple of 2M values would be over 16 MB


def test_the_block_cap_is_inclusive() -> None:
    """A block of exactly MAX_BLOCK_BYTES is read (its one string is then too long); one byte
    more and the whole block is skipped. The PNG's block is "Exif\\0\\0" + a 27-byte TIFF
    head and directory + the string and its NUL."""
    at_cap = open_png(exif_string_png(MAX_BLOCK_BYTES - 33))
    assert len(at_cap.info["exif"]) == MAX_BLOCK_BYTES
    assert read_exif_data(at_cap).omitted == ["ImageDescription"]
    over = open_png(exif_string_png(MAX_BLOCK_BYTES - 32))
    assert len(over.info["exif"]) == MAX_BLOCK_BYTES + 1
    assert read_exif_data(over).omitted == ["EXIF"]


def test_reported_tags_stop_at_the_total_cap_and_the_rest_are_listed(
    decoded_tags: list[int],
) -> None:
    """Over 200 IFD0 strings of 4001 stored bytes each (every one under the value cap): the
    first MAX_TOTAL_BYTES // 4001 = 16 in tag order are reported, every other is omitted."""
    image = open_png(exif_many_tags_png(4000))
    found = read_exif_data(image)
    assert len(found.tags) == MAX_TOTAL_BYTES // 4001 == 16
    assert all(value == "B" * 4000 for value in found.tags.values())
    assert 16 * 4001 <= MAX_TOTAL_BYTES < 17 * 4001
    assert not set(found.tags) & set(found.omitted)
    assert len(found.omitted) >= 200
    ids = {name: number for number, name in ExifTags.TAGS.items()}
    reported = sorted(ids[name] for name in found.tags)
    omitted = sorted(ids[name] for name in found.omitted)
    assert max(reported) < min(omitted)  # the budget is spent in tag order
    assert set(decoded_tags) == set(reported)  # an omitted tag is never decoded
    written = set(open_png(exif_many_tags_png(4000)).getexif())  # the tag numbers only
    not_named = written - set(reported) - set(omitted)
    layout = {ExifTags.Base.ImageWidth, ExifTags.Base.StripOffsets, ExifTags.Base.RowsPerStrip}
    assert layout <= not_named  # file layout tags are skipped before the budget, not omitted


def _camera_exif_with_huge_tags() -> bytes:
    """Small camera tags in IFD0, the Exif IFD and GPS, each IFD with one huge tag too."""
    exif = Image.Exif()
    exif[0x010F] = "Canon"  # Make
    exif[0x0110] = "EOS R5"  # Model
    exif[0x010E] = "D" * 5000  # ImageDescription: omitted
    sub = exif.get_ifd(0x8769)
    sub[0x829A] = IFDRational(1, 125)  # ExposureTime
    sub[0x8827] = 800  # ISOSpeedRatings
    sub[0x9286] = b"ASCII\0\0\0" + b"c" * 6000  # UserComment: omitted
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (IFDRational(48, 1), IFDRational(51, 1), IFDRational(2988, 100))
    gps[3], gps[4] = "W", (IFDRational(2, 1), IFDRational(17, 1), IFDRational(4020, 100))
    gps[5], gps[6] = b"\x00", IFDRational(35, 1)  # 35 m above sea level
    gps[0x1B] = b"ASCII\0\0\0" + b"g" * 5000  # GPSProcessingMethod: omitted
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "green").save(buffer, "PNG", exif=exif)
    return buffer.getvalue()


def test_small_tags_and_gps_are_reported_beside_omitted_huge_ones(
    decoded_tags: list[int],
) -> None:
    found = read_exif_data(open_png(_camera_exif_with_huge_tags()))
    assert found.tags == {
        "Make": "Canon",
        "Model": "EOS R5",
        "ExposureTime": 0.008,
        "ISOSpeedRatings": 800,
        "GPSLatitude": pytest.approx(48.8583, abs=1e-9),
        "GPSLongitude": pytest.approx(-2.2945, abs=1e-9),
        "GPSAltitude": 35.0,
    }
    assert found.omitted == ["ImageDescription", "UserComment", "GPSProcessingMethod"]
    assert not {0x010E, 0x9286, 0x1B} & set(decoded_tags)


# --- the thumbnail, computed without Pillow's in-place copy ------------------------------


def test_thumbnail_size_is_what_pillow_thumbnail_gives() -> None:
    rng = random.Random(20240506)
    cases = [((4000, 1), (512, 1)), ((1, 4000), (1, 512)), ((513, 512), (512, 511))]
    for _ in range(300):
        size = (rng.randint(1, 3000), rng.randint(1, 3000))
        cases.append((size, (rng.randint(1, 700), rng.randint(1, 700))))
    for size, requested in cases:
        image = Image.new("1", size)
        image.thumbnail(requested)
        assert thumbnail_size(size, requested) == image.size, (size, requested)


def test_thumbnail_size_keeps_an_image_that_already_fits() -> None:
    assert thumbnail_size((300, 200), (512, 341)) == (300, 200)
    assert thumbnail_size((512, 512), (512, 512)) == (512, 512)


def old_thumbnail(image: Image.Image) -> Image.Image:
    """What colour statistics used to be taken on: a copy, thumbnailed in place."""
    width, height = image.size
    if width > height:
        requested = (512, max(1, int(height * 512 / width)))
    else:
        requested = (max(1, int(width * 512 / height)), 512)
    copy = image.copy()
    copy.thumbnail(requested, Image.Resampling.LANCZOS)
    return copy


def _big_image(mode: str, size: tuple[int, int], seed: int) -> Image.Image:
    """Gradients (so resampling has structure to get wrong) over few-colour noise (so the
    dominant bin is well populated)."""
    rng = np.random.default_rng(seed)
    width, height = size
    base = rng.integers(0, 4, size=(height, width, 4), dtype=np.uint8) * 60
    base[..., 0] += (np.arange(width) * 60 // width).astype(np.uint8)[None, :]
    base[..., 1] += (np.arange(height) * 60 // height).astype(np.uint8)[:, None]
    if mode == "P":
        image = Image.fromarray(base[..., 0], "P")
        image.putpalette(rng.integers(0, 256, size=768, dtype=np.uint8).tobytes())
        return image
    bands = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4}[mode]
    pixels = base[..., 0] if bands == 1 else base[..., :bands]
    return Image.fromarray(np.ascontiguousarray(pixels), mode)


@pytest.mark.parametrize(
    ("mode", "size"),
    [
        ("RGB", (3000, 2000)),
        ("RGBA", (2000, 3000)),
        ("L", (3000, 2000)),
        ("LA", (1999, 1333)),
        ("P", (3000, 2000)),
        ("RGB", (4001, 517)),
    ],
)
def test_color_stats_of_a_big_image_equal_the_copy_and_thumbnail_approach(
    mode: str, size: tuple[int, int]
) -> None:
    image = _big_image(mode, size, seed=sum(size))
    before = image.tobytes()
    thumbnail = old_thumbnail(image)
    assert 500 < max(thumbnail.size) <= 512  # Pillow's aspect rounding may give 511
    for method in ("arithmetic", "geometric"):
        assert color_stats(image, method) == color_stats(thumbnail, method), method
    assert image.size == size and image.tobytes() == before  # the caller's image is untouched
