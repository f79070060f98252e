"""EXIF as plain values (int, float, str, lists), named as Pillow and the original service named it.

Reads IFD0, the Exif sub-IFD (0x8769) and the GPS IFD (0x8825); thumbnails (IFD1), maker notes
and other opaque blobs are left out. Camera files carry odd and broken metadata, so nothing in
here may fail a request: a value without a faithful plain form is skipped, an unreadable IFD or
tag is skipped and logged at debug. Pillow's own "corrupt EXIF" warnings are left to the
warnings machinery: silencing them needs `warnings.catch_warnings`, which is not thread-safe.

What is reported is bounded before it is decoded: a tag whose stored value is over
MAX_VALUE_BYTES (a 9,000,000-value array, a 15 MB string) is left out and named in
`omitted`, and so is every tag once MAX_TOTAL_BYTES have been reported; an EXIF block over
MAX_BLOCK_BYTES is not read at all (`omitted` then names "EXIF"). Pillow decodes a value
only when it is read, so an oversized one is never turned into Python objects at all.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational, ImageFileDirectory_v2

__all__ = ["MAX_BLOCK_BYTES", "MAX_TOTAL_BYTES", "MAX_VALUE_BYTES", "ExifData", "read_exif"]

MAX_VALUE_BYTES = 4096  # one tag's stored value: any camera's real tags fit many times over
MAX_TOTAL_BYTES = 64 * 1024  # all reported tags' stored values together
# An EXIF block (a PNG eXIf or WebP EXIF chunk) larger than this is not read at all: a JPEG's
# cannot exceed 64 KB, and Pillow copies the whole block three times before any tag is read.
MAX_BLOCK_BYTES = 1024 * 1024
OMITTED_BLOCK = "EXIF"  # what `omitted` names when the whole block was left unread

logger = logging.getLogger(__name__)

_Base = ExifTags.Base
_GPS = ExifTags.GPS

# Pointers to other IFDs and opaque blobs (maker notes, XMP, ICC, IPTC, Photoshop, PIM, the
# thumbnail): none is a readable value.
_OPAQUE = {
    _Base.ExifOffset,
    _Base.GPSInfo,
    _Base.ExifInteroperabilityOffset,
    _Base.SubIFDs,
    _Base.JpegIFOffset,
    _Base.JpegIFByteCount,
    _Base.MakerNote,
    _Base.XMLPacket,
    _Base.InterColorProfile,
    _Base.IPTCNAA,
    _Base.ImageResources,
    _Base.PrintImageMatching,
}
# How a TIFF file stores its own pixels (a TIFF's IFD0 is where Pillow finds its EXIF): it says
# nothing about the photo, is stale once the image is re-encoded, and the decoded image already
# gives size and mode. Without this, every TIFF would report a dozen layout "EXIF" tags.
_FILE_LAYOUT = {
    _Base.ImageWidth,
    _Base.ImageLength,
    _Base.BitsPerSample,
    _Base.Compression,
    _Base.PhotometricInterpretation,
    _Base.FillOrder,
    _Base.StripOffsets,
    _Base.SamplesPerPixel,
    _Base.RowsPerStrip,
    _Base.StripByteCounts,
    _Base.PlanarConfiguration,
    _Base.Predictor,
    _Base.ColorMap,
    _Base.TileWidth,
    _Base.TileLength,
    _Base.TileOffsets,
    _Base.TileByteCounts,
    _Base.ExtraSamples,
    _Base.SampleFormat,
    _Base.JPEGTables,
}
_SKIPPED = frozenset(_OPAQUE | _FILE_LAYOUT)

# UserComment starts with an 8-byte character code (EXIF 2.32, 4.6.5); JIS is not decoded.
_COMMENT_CODES = {b"ASCII\0\0\0": "ascii", b"\0" * 8: "ascii", b"UNICODE\0": "utf-16"}


@dataclass
class ExifData:
    """Tags by name, and the names left out because their values were too large."""

    tags: dict[str, object] = field(default_factory=dict)
    omitted: list[str] = field(default_factory=list)
    _budget: int = MAX_TOTAL_BYTES

    def admit(self, name: str, size: int) -> bool:
        """Whether a value of `size` stored bytes may be decoded and reported."""
        if size > MAX_VALUE_BYTES or size > self._budget:
            self.omitted.append(name)
            return False
        self._budget -= size
        return True


def read_exif(image: Image.Image) -> ExifData:
    """Every readable tag of IFD0, the Exif IFD and GPS by its Pillow name; none when absent.

    GPS is reduced to what exiftool -n reports as the position: signed decimal GPSLatitude and
    GPSLongitude (S and W negative) and signed GPSAltitude, and left out entirely unless both
    coordinates are there and not both 0 (a 0,0 fix is a placeholder; the original dropped it).
    """
    found = ExifData()
    block = image.info.get("exif")
    if isinstance(block, bytes) and len(block) > MAX_BLOCK_BYTES:
        found.omitted.append(OMITTED_BLOCK)
        return found
    try:
        exif = image.getexif()
    except Exception:  # Pillow's TIFF parser raises many types on corrupt data
        logger.debug("EXIF unreadable", exc_info=True)
        return found
    found.tags.update(_named(_entries(exif, _stored(exif._info), found), exif.endian))
    exif_ifd = _sub_ifd(exif, ExifTags.IFD.Exif)
    if exif_ifd is not None:
        found.tags.update(_named(_entries(exif_ifd, _stored(exif_ifd), found), exif.endian))
    gps_ifd = _sub_ifd(exif, ExifTags.IFD.GPSInfo)
    if gps_ifd is not None:
        found.tags.update(_gps(_entries(gps_ifd, _stored(gps_ifd), found, _GPS_NAMES)))
    return found


def _stored(directory: ImageFileDirectory_v2 | None) -> Mapping[int, bytes]:
    """The raw bytes of each tag not decoded yet (Pillow's `_tagdata`, which its docs name as
    where tags are found), so a value's size is known before it is decoded."""
    return getattr(directory, "_tagdata", None) or {}


_GPS_NAMES = {int(tag): tag.name for tag in _GPS}


def _entries(
    ifd: Mapping[int, Any],
    stored: Mapping[int, bytes],
    found: ExifData,
    names: Mapping[int, str] = ExifTags.TAGS,
) -> dict[int, Any]:
    """The tags of one IFD, read one by one so a corrupt tag costs only itself; a named tag
    whose stored value is too large is never decoded, only listed as omitted."""
    entries = {}
    skipped = _SKIPPED if names is ExifTags.TAGS else frozenset()
    for tag in _keys(ifd):
        name = names.get(tag)
        if name is None or tag in skipped:
            continue
        if not found.admit(name, len(stored.get(tag, b""))):
            continue
        try:
            entries[tag] = _fixup(ifd[tag])
        except Exception:  # values are decoded lazily, on access
            logger.debug("EXIF tag 0x%04x unreadable", tag, exc_info=True)
    return entries


def _keys(ifd: Mapping[int, Any]) -> Iterator[int]:
    try:
        yield from sorted(ifd)
    except Exception:  # a directory Pillow cannot list
        logger.debug("EXIF directory unreadable", exc_info=True)


def _fixup(value: object) -> object:
    """A one-item tuple is its item, as Pillow's own Exif mapping reports it."""
    if isinstance(value, tuple) and len(value) == 1:
        return value[0]
    return value


def _sub_ifd(exif: Image.Exif, pointer: int) -> ImageFileDirectory_v2 | None:
    """The Exif or GPS directory, loaded but not decoded (Pillow's `get_ifd` would decode
    every value in it first, however large)."""
    try:
        offset = exif.get(pointer)
        if not isinstance(offset, int) or not hasattr(exif, "fp"):
            return None
        directory = ImageFileDirectory_v2(exif.head, group=pointer)
        exif.fp.seek(offset)
        directory.load(exif.fp)
    except Exception:  # a bad offset or a truncated directory
        logger.debug("EXIF IFD 0x%04x unreadable", pointer, exc_info=True)
        return None
    return directory


def _named(entries: Mapping[int, Any], endian: str | None) -> dict[str, object]:
    named: dict[str, object] = {}
    for tag, raw in entries.items():
        value = _user_comment(raw, endian) if tag == _Base.UserComment else _plain(raw)
        if value is not None:
            named[ExifTags.TAGS[tag]] = value
    return named


def _plain(value: object) -> object | None:
    """A JSON-ready value, or None for one without a faithful plain form (then skipped).

    Rationals become floats (0/0 and x/0 are skipped: exiftool says "undef" or "inf"), integers
    stay integers, tuples become lists (skipped whole if an item is), strings are cut at the
    first NUL. Bytes (UNDEFINED and BYTE tags) become a string when they are printable ASCII,
    else they are skipped: base64 of an opaque blob helps no caller and can be large.
    """
    if isinstance(value, (IFDRational, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bytes):
        data = value.rstrip(b"\0 ")
        printable = data.isascii() and data.decode("ascii").isprintable()
        return data.decode("ascii") if data and printable else None
    if isinstance(value, (tuple, list)):
        items = [_plain(item) for item in value]
        return items if items and all(item is not None for item in items) else None
    return None


def _text(value: str) -> str | None:
    """Cuts at the first NUL and drops trailing spaces (as exiftool does); UTF-8 is undone from
    Pillow's Latin-1 decoding when the bytes are valid UTF-8. Empty strings are skipped."""
    text = value.split("\0", 1)[0].rstrip(" ")
    with contextlib.suppress(UnicodeError):
        text = text.encode("latin-1").decode("utf-8")
    return text or None


def _user_comment(value: object, endian: str | None) -> object | None:
    """Decodes the character code prefix; a comment written with the wrong type is kept plain."""
    if not isinstance(value, bytes):
        return _plain(value)
    codec = _COMMENT_CODES.get(value[:8])
    if codec is None:
        return None
    if codec == "utf-16":
        codec = "utf-16-le" if endian == "<" else "utf-16-be"
    try:
        text = value[8:].decode(codec)
    except UnicodeDecodeError:
        return None
    return text.split("\0", 1)[0].rstrip(" ") or None


def _gps(entries: Mapping[int, Any]) -> dict[str, object]:
    latitude = _degrees(entries.get(_GPS.GPSLatitude), entries.get(_GPS.GPSLatitudeRef), "S")
    longitude = _degrees(entries.get(_GPS.GPSLongitude), entries.get(_GPS.GPSLongitudeRef), "W")
    if latitude is None or longitude is None or latitude == longitude == 0:
        return {}
    gps: dict[str, object] = {"GPSLatitude": latitude, "GPSLongitude": longitude}
    altitude = _plain(entries.get(_GPS.GPSAltitude))
    if isinstance(altitude, (int, float)):
        below_sea_level = entries.get(_GPS.GPSAltitudeRef) in (1, b"\x01")
        gps["GPSAltitude"] = -float(altitude) if below_sea_level else float(altitude)
    return gps


def _degrees(dms: object, ref: object, negative: str) -> float | None:
    """Degrees, minutes, seconds (or fewer parts) -> signed decimal degrees."""
    parts = _plain(dms)
    if isinstance(parts, (int, float)):
        parts = [parts]
    if not isinstance(parts, list) or not 1 <= len(parts) <= 3:
        return None
    if not all(isinstance(part, (int, float)) for part in parts):
        return None
    degrees = sum(float(part) / 60**index for index, part in enumerate(parts))
    direction = _plain(ref)
    return -degrees if isinstance(direction, str) and direction.upper() == negative else degrees
