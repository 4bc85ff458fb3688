"""One error hierarchy for geotfrecord.

Every error raised on purpose derives from :class:`GeoTFRecordError` and also from the builtin a caller
would naturally catch (``ValueError`` for bad input, ``OSError`` for I/O), so both styles work::

    try:
        records = list(geotfrecord.read_records("shard.tfrecord.gz"))
    except ValueError as err:  # or geotfrecord.CorruptRecordError
        print(err)
"""

from __future__ import annotations

__all__ = ["CorruptRecordError", "DestinationError", "GeoTFRecordError", "OptionsError"]


class GeoTFRecordError(Exception):
    """Root of every error geotfrecord raises on purpose."""


class OptionsError(GeoTFRecordError, ValueError):
    """An export option is invalid; ``field`` names it (e.g. ``tileDimensions.width``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class CorruptRecordError(GeoTFRecordError, ValueError):
    """A TFRecord file is corrupt or truncated; names the file and the index of the bad record."""

    def __init__(self, path: str, record_index: int, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.record_index = record_index


class DestinationError(GeoTFRecordError, OSError):
    """An output could not be written where it was asked to go."""
