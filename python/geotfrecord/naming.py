"""Earth Engine's output file names: the single place they are spelled.

A prefix ending in ``/`` names a folder, and then no hyphen joins it to the rest.

Examples
--------
>>> image_shard_name("out/scene", 0, compressed=True)
'out/scene-00000.tfrecord.gz'
>>> image_shard_name("out/scene/", 12, compressed=False)
'out/scene/00012.tfrecord'
>>> mixer_name("out/scene")
'out/scene-mixer.json'
>>> table_name("out/table_")
'out/table_ee_export.tfrecord.gz'
>>> geotiff_piece_name("scene", 0, 256)
'scene-0000000000-0000000256.tif'
>>> geotiff_piece_name("out/", 0, 256), geotiff_name("out/")
('out/0000000000-0000000256.tif', 'out/ee_export.tif')
"""

from __future__ import annotations

__all__ = [
    "TFRECORD_SUFFIX",
    "geotiff_name",
    "geotiff_piece_name",
    "image_shard_name",
    "image_shard_pattern",
    "mixer_name",
    "table_name",
]

TFRECORD_SUFFIX = ".tfrecord"
GZIP_SUFFIX = ".gz"
SHARD_DIGITS = 5
GEOTIFF_OFFSET_DIGITS = 10
TABLE_DEFAULT_NAME = "ee_export"


def _join(prefix: str, name: str) -> str:
    return prefix + name if prefix.endswith("/") else f"{prefix}-{name}"


def image_shard_name(prefix: str, index: int, *, compressed: bool) -> str:
    """``<prefix>-00000.tfrecord.gz``: shard ``index`` of an image export."""
    suffix = TFRECORD_SUFFIX + (GZIP_SUFFIX if compressed else "")
    return _join(prefix, f"{index:0{SHARD_DIGITS}d}") + suffix


def image_shard_pattern(prefix: str) -> str:
    """Glob of every shard name an image export with this prefix can write (without the folder)."""
    name = image_shard_name(prefix, 0, compressed=False).rsplit("/", 1)[-1]
    return name.replace("0" * SHARD_DIGITS, "[0-9]" * SHARD_DIGITS) + "*"


def mixer_name(prefix: str) -> str:
    """``<prefix>-mixer.json``: the georeferencing sidecar of an image export."""
    return _join(prefix, "mixer") + ".json"


def table_name(prefix: str) -> str:
    """``<prefix>.tfrecord.gz`` (``<prefix>ee_export.tfrecord.gz`` when it ends in ``_`` or ``/``)."""
    stem = prefix + TABLE_DEFAULT_NAME if prefix.endswith(("_", "/")) else prefix
    return stem + TFRECORD_SUFFIX + GZIP_SUFFIX


def geotiff_name(prefix: str) -> str:
    """``<prefix>.tif``: a GeoTIFF export that fits in one file (``<folder>/ee_export.tif`` for a folder)."""
    return (prefix + TABLE_DEFAULT_NAME if prefix.endswith("/") else prefix) + ".tif"


def geotiff_piece_name(prefix: str, y_min: int, x_min: int) -> str:
    """``<prefix>-<yMin>-<xMin>.tif``: one piece of a split GeoTIFF export (pixel offsets, row first)."""
    n = GEOTIFF_OFFSET_DIGITS
    return _join(prefix, f"{y_min:0{n}d}-{x_min:0{n}d}") + ".tif"
