"""EXIF as plain values (int, float, str, lists), named as Pillow and the original service named it.

Reads IFD0, the Exif sub-IFD (0x8769) and the GPS IFD (0x8825); thumbnails (IFD1), maker notes
and other opaque blobs are left out. Camera files carry odd and broken metadata, so nothing in
here may fail a request: a value without a faithful plain form is skipped, an unreadable IFD or
tag is skipped and logged at debug. Pillow's own "corrupt EXIF" warnings are left to the
warnings machinery: silencing them needs `warnings.catch_warnings`, which is not thread-safe.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import Mapping
from typing import Any

from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

__all__ = ["read_exif"]

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


def read_exif(image: Image.Image) -> dict[str, object]:
    """Every readable tag of IFD0, the Exif IFD and GPS by its Pillow name; {} when none.

    GPS is reduced to what exiftool -n reports as the position: signed decimal GPSLatitude and
    GPSLongitude (S and W negative) and signed GPSAltitude, and left out entirely unless both
    coordinates are there and not both 0 (a 0,0 fix is a placeholder; the original dropped it).
    """
    try:
        exif = image.getexif()
    except Exception:  # Pillow's TIFF parser raises many types on corrupt data
        logger.debug("EXIF unreadable", exc_info=True)
        return {}
    tags = _named(_entries(exif), exif.endian)
    tags.update(_named(_sub_ifd(exif, ExifTags.IFD.Exif), exif.endian))
    tags.update(_gps(_sub_ifd(exif, ExifTags.IFD.GPSInfo)))
    return tags


def _entries(ifd: Mapping[int, Any]) -> dict[int, Any]:
    """The tags of one IFD, read one by one so a corrupt tag costs only itself."""
    entries = {}
    for tag in list(ifd):
        try:
            entries[tag] = ifd[tag]
        except Exception:  # values are decoded lazily, on access
            logger.debug("EXIF tag 0x%04x unreadable", tag, exc_info=True)
    return entries


def _sub_ifd(exif: Image.Exif, pointer: int) -> dict[int, Any]:
    try:
        return _entries(exif.get_ifd(pointer))
    except Exception:  # a bad offset or a truncated directory
        logger.debug("EXIF IFD 0x%04x unreadable", pointer, exc_info=True)
        return {}


def _named(entries: Mapping[int, Any], endian: str | None) -> dict[str, object]:
    named: dict[str, object] = {}
    for tag, raw in entries.items():
        name = ExifTags.TAGS.get(tag)
        if name is None or tag in _SKIPPED:
            continue
        value = _user_comment(raw, endian) if tag == _Base.UserComment else _plain(raw)
        if value is not None:
            named[name] = value
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
