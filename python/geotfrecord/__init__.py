"""geotfrecord: Earth Engine's TFRecord exports, and the way back, on your own machine and fast.

Examples
--------
>>> import geotfrecord
>>> geotfrecord.build_info()["deflate"].startswith("zlib-ng")
True
"""

from __future__ import annotations

from typing import Any

from . import _core
from .errors import CorruptRecordError, DestinationError, GeoTFRecordError, OptionsError
from .examples import decode_example, decode_sequence_example, encode_example, encode_sequence_example
from .export import ImageFileExportOptions, export
from .geotiff import GeoTiffOptions, GeoTiffResult, export_geotiff
from .image_export import ExportResult, export_image
from .mixer import Mixer
from .options import TFRecordOptions
from .predictions import predictions_to_geotiff, write_predictions
from .reader import read_patches
from .records import RecordWriter, ShardWriter, read_records, write_records
from .sources import ArrayBand
from .table_export import export_table, read_table
from .upload import UploadResult, upload_image

__version__: str = _core.__version__

__all__ = [
    "ArrayBand",
    "CorruptRecordError",
    "DestinationError",
    "ExportResult",
    "GeoTFRecordError",
    "GeoTiffOptions",
    "GeoTiffResult",
    "ImageFileExportOptions",
    "Mixer",
    "OptionsError",
    "RecordWriter",
    "ShardWriter",
    "TFRecordOptions",
    "UploadResult",
    "__version__",
    "build_info",
    "decode_example",
    "decode_sequence_example",
    "encode_example",
    "encode_sequence_example",
    "export",
    "export_geotiff",
    "export_image",
    "export_many",
    "export_table",
    "predictions_to_geotiff",
    "read_patches",
    "read_records",
    "read_table",
    "upload_image",
    "write_predictions",
    "write_records",
]


def __getattr__(name: str) -> Any:
    # export_many lives with the Dask code, which imports only when used (Dask is an optional extra).
    if name == "export_many":
        from .dask_export import export_many

        return export_many
    raise AttributeError(f"module 'geotfrecord' has no attribute {name!r}")


def build_info() -> dict[str, Any]:
    """What the compiled core was built with and uses at run time.

    Returns a dict with ``version``, ``deflate`` (library and version, e.g. ``"zlib-ng 2.3.3"``),
    ``deflate_origin`` (installed / source tree / the pinned PyPI sdist), ``gzip_engines`` (zlib-ng,
    and ISA-L where the build found it; the first is the default), ``crc32c`` (the active
    backend: ``"sse4.2"``, ``"armv8-crc"`` or the portable fallback) and ``compiler``.

    Examples
    --------
    >>> sorted(build_info())
    ['compiler', 'crc32c', 'deflate', 'deflate_origin', 'gzip_engines', 'version']
    """
    info = dict(_core.build_info())
    info["gzip_engines"] = [version for _, version in _core.GZIP_ENGINES]
    return info
