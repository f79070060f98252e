"""What `ImageStats` reports besides the embedding: EXIF tags and colour statistics.

Pure Pillow and numpy; the gRPC edge turns these plain values into protobuf.
"""

from __future__ import annotations

from .colors import ColorStats, color_stats
from .exif import read_exif

__all__ = ["ColorStats", "color_stats", "read_exif"]
