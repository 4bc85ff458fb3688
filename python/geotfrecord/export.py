"""One entry point for Earth Engine's REST ``ImageFileExportOptions``: GeoTIFF or TFRecord, Drive or Cloud Storage.

The JSON is validated whole before any pixel is read: ``fileFormat`` is ``GEO_TIFF`` or
``TF_RECORD_IMAGE``; exactly one destination (``driveDestination`` or ``cloudStorageDestination``,
the union field ``destination``); at most one of ``geoTiffOptions`` / ``tfRecordOptions`` (the union
field ``format_options``), and only the one matching the format. Unknown keys, at any depth, raise
:class:`~geotfrecord.OptionsError` naming their JSON path (``cloudStorageDestination.bukket``).

Destinations become output prefixes: ``driveDestination {folder, filenamePrefix}`` → the local path
``folder/filenamePrefix`` (no folder: the current directory); ``cloudStorageDestination {bucket,
filenamePrefix}`` → ``gs://bucket/filenamePrefix`` written through fsspec (gcsfs). A trailing ``/``
in ``filenamePrefix`` names a folder. ``destination=`` replaces the prefix with any local path or
fsspec URL.

Examples
--------
>>> request = ImageFileExportOptions.from_rest({
...     "fileFormat": "GEO_TIFF",
...     "cloudStorageDestination": {"bucket": "my-bucket", "filenamePrefix": "exports/scene"},
...     "geoTiffOptions": {"cloudOptimized": True, "tileDimensions": {"width": 512, "height": 512}},
... })
>>> request.file_format, request.destination, request.format_options.file_dimensions
('GEO_TIFF', 'gs://my-bucket/exports/scene', (512, 512))
"""

from __future__ import annotations

import difflib
import inspect
import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ._files import open_input
from .errors import OptionsError
from .geotiff import GeoTiffOptions, GeoTiffResult, _check_destination, export_geotiff
from .image_export import ExportResult, export_image
from .options import TFRecordOptions, _reject_unknown

__all__ = ["FILE_EXPORT_FORMATS", "IMAGE_FILE_FORMATS", "ImageFileExportOptions", "export"]

#: Every REST ``ImageFileFormat`` value.
IMAGE_FILE_FORMATS = (
    "IMAGE_FILE_FORMAT_UNSPECIFIED",
    "JPEG",
    "PNG",
    "AUTO_JPEG_PNG",
    "NPY",
    "GEO_TIFF",
    "TF_RECORD_IMAGE",
    "ZIPPED_GEO_TIFF",
    "ZIPPED_GEO_TIFF_PER_BAND",
)
#: The formats of image file exports, with the key of their format options.
FILE_EXPORT_FORMATS = {"GEO_TIFF": "geoTiffOptions", "TF_RECORD_IMAGE": "tfRecordOptions"}
#: REST ``TilePermissions`` values.
TILE_PERMISSIONS = ("TILE_PERMISSIONS_UNSPECIFIED", "PUBLIC", "DEFAULT_OBJECT_ACL")

_TOP = {
    "fileFormat": 0,
    "driveDestination": 0,
    "cloudStorageDestination": 0,
    "geoTiffOptions": 0,
    "tfRecordOptions": 0,
}
_DRIVE = {"folder": 0, "filenamePrefix": 0}
_CLOUD = {"bucket": 0, "filenamePrefix": 0, "permissions": 0, "bucketCorsUris": 0}
# Cloud Storage bucket names: 3-222 characters of lowercase letters, digits, '-', '_' and '.'.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$")

ProgressCallback = Callable[[int, int], None]


def _object(value: Any, name: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise OptionsError(name, f"must be {what} object, got {value!r}")
    return value


def _string(value: Any, name: str, *, required: bool = False) -> str:
    if not isinstance(value, str):
        raise OptionsError(name, f"must be a string, got {value!r}")
    if required and not value:
        raise OptionsError(name, "must not be empty")
    return value


def _filename_prefix(value: Any, name: str) -> str:
    prefix = _string(value, name, required=True)
    if prefix.startswith("/"):
        raise OptionsError(name, f"must be relative to the folder or bucket, got {prefix!r}")
    return prefix


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads`` keeps the last of repeated keys; a repeated key is a mistake worth naming."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise OptionsError(key, "given twice")
        out[key] = value
    return out


def _load(options: Any) -> Mapping[str, Any]:
    """The options as a mapping, from a mapping, JSON text or bytes, or a path/URL of a .json file."""
    if isinstance(options, Mapping):
        return options
    if isinstance(options, (bytes, bytearray)):
        text = bytes(options).decode("utf-8")
    elif isinstance(options, (str, os.PathLike)):
        text = os.fspath(options)
        if not text.lstrip().startswith(("{", "[")):
            try:
                with open_input(text) as f:
                    text = f.read().decode("utf-8")
            except FileNotFoundError as err:
                raise OptionsError("options", f"neither JSON text nor an existing .json file: {text!r}") from err
    else:
        raise OptionsError("options", f"must be an ImageFileExportOptions object, JSON text or a path, got {options!r}")
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        raise OptionsError("options", f"not valid JSON: {err}") from err
    return _object(data, "options", "an ImageFileExportOptions")


def _file_format(value: Any) -> str:
    if value is None:
        raise OptionsError("fileFormat", f"required: one of {', '.join(FILE_EXPORT_FORMATS)}")
    if not isinstance(value, str):
        raise OptionsError("fileFormat", f"must be an ImageFileFormat string, got {value!r}")
    if value in FILE_EXPORT_FORMATS:
        return value
    supported = ", ".join(FILE_EXPORT_FORMATS)
    if value in IMAGE_FILE_FORMATS:
        raise OptionsError("fileFormat", f"{value} is not supported: image file exports are {supported}")
    hint = difflib.get_close_matches(value.upper(), list(IMAGE_FILE_FORMATS), n=1)
    suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
    raise OptionsError("fileFormat", f"unknown ImageFileFormat {value!r}{suggestion} (supported: {supported})")


def _drive_prefix(value: Any) -> str:
    name = "driveDestination"
    drive = _object(value, name, "a DriveDestination")
    _reject_unknown(drive, _DRIVE, name + ".")
    folder = _string(drive.get("folder", ""), name + ".folder")
    if "filenamePrefix" not in drive:
        raise OptionsError(name + ".filenamePrefix", "required")
    prefix = _filename_prefix(drive["filenamePrefix"], name + ".filenamePrefix")
    return os.path.join(folder, prefix) if folder else prefix


def _cloud_prefix(value: Any, *, used: bool) -> str:
    name = "cloudStorageDestination"
    cloud = _object(value, name, "a CloudStorageDestination")
    _reject_unknown(cloud, _CLOUD, name + ".")
    if "bucket" not in cloud:
        raise OptionsError(name + ".bucket", "required")
    bucket = _string(cloud["bucket"], name + ".bucket", required=True)
    if not _BUCKET.match(bucket):
        raise OptionsError(name + ".bucket", f"not a Cloud Storage bucket name: {bucket!r}")
    if "filenamePrefix" not in cloud:
        raise OptionsError(name + ".filenamePrefix", "required")
    prefix = _filename_prefix(cloud["filenamePrefix"], name + ".filenamePrefix")
    permissions = cloud.get("permissions", "TILE_PERMISSIONS_UNSPECIFIED")
    if permissions not in TILE_PERMISSIONS:
        raise OptionsError(name + ".permissions", f"must be one of {', '.join(TILE_PERMISSIONS)}, got {permissions!r}")
    cors = cloud.get("bucketCorsUris", [])
    if isinstance(cors, (str, bytes)) or not isinstance(cors, Sequence):
        raise OptionsError(name + ".bucketCorsUris", f"must be a list of strings, got {cors!r}")
    for i, uri in enumerate(cors):
        _string(uri, f"{name}.bucketCorsUris[{i}]")
    if used and permissions == "PUBLIC":
        raise OptionsError(
            name + ".permissions", "PUBLIC is not applied by geotfrecord: objects get the bucket's default ACL"
        )
    if used and cors:
        raise OptionsError(name + ".bucketCorsUris", "geotfrecord does not change a bucket's CORS settings")
    return f"gs://{bucket}/{prefix}"


@dataclass(frozen=True)
class ImageFileExportOptions:
    """A validated REST ``ImageFileExportOptions``: the format, the output prefix and the format's options.

    ``destination`` is the output prefix the destination resolves to (or the ``destination=``
    override); ``format_options`` is a :class:`~geotfrecord.GeoTiffOptions` for ``GEO_TIFF`` and a
    :class:`~geotfrecord.TFRecordOptions` for ``TF_RECORD_IMAGE``.

    Examples
    --------
    >>> ImageFileExportOptions.from_rest('''{"fileFormat": "TF_RECORD_IMAGE",
    ...     "driveDestination": {"folder": "exports", "filenamePrefix": "scene"},
    ...     "tfRecordOptions": {"tileDimensions": {"width": 256, "height": 256}}}''').destination
    'exports/scene'
    """

    file_format: str
    destination: str
    format_options: GeoTiffOptions | TFRecordOptions

    @classmethod
    def from_rest(
        cls, options: Mapping[str, Any] | str | bytes | os.PathLike[str], *, destination: str | None = None
    ) -> ImageFileExportOptions:
        """Validate ``options`` (a dict, JSON text, or a path/URL of a .json file).

        ``destination`` (a local path or fsspec URL prefix) replaces the JSON's destination, which
        may then be left out; when both are given, the JSON's is still validated.
        """
        data = _load(options)
        _reject_unknown(data, _TOP, "")
        file_format = _file_format(data.get("fileFormat"))

        given = [key for key in ("driveDestination", "cloudStorageDestination") if key in data]
        if len(given) > 1:
            raise OptionsError(
                given[1],
                f"only one of driveDestination, cloudStorageDestination (union field destination); got {given}",
            )
        used = destination is None
        if given == ["driveDestination"]:
            prefix = _drive_prefix(data["driveDestination"])
        elif given == ["cloudStorageDestination"]:
            prefix = _cloud_prefix(data["cloudStorageDestination"], used=used)
        elif used:
            raise OptionsError("destination", "required: driveDestination or cloudStorageDestination (or destination=)")
        if not used:
            prefix = os.fspath(destination)
            if not prefix:
                raise OptionsError("destination", "must not be empty")

        format_keys = [key for key in ("geoTiffOptions", "tfRecordOptions") if key in data]
        if len(format_keys) > 1:
            raise OptionsError(
                format_keys[1],
                f"only one of geoTiffOptions, tfRecordOptions (union field format_options); got {format_keys}",
            )
        wanted = FILE_EXPORT_FORMATS[file_format]
        if format_keys and format_keys[0] != wanted:
            raise OptionsError(format_keys[0], f"does not apply to fileFormat {file_format}; use {wanted}")
        raw = data.get(wanted)
        if file_format == "GEO_TIFF":
            format_options: GeoTiffOptions | TFRecordOptions = (
                GeoTiffOptions() if raw is None else GeoTiffOptions.from_rest(raw, prefix="geoTiffOptions.")
            )
        else:
            format_options = TFRecordOptions.from_rest({} if raw is None else raw, prefix="tfRecordOptions.")
        return cls(file_format, prefix, format_options)


def _export_image_takes(name: str) -> bool:
    return name in inspect.signature(export_image).parameters


def export(
    image: Any,
    options: Mapping[str, Any] | str | bytes | os.PathLike[str] | ImageFileExportOptions,
    *,
    destination: str | os.PathLike[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    bands: Sequence[str] | None = None,
    band_names: Sequence[str] | None = None,
    mask: Any = None,
    nodata: float | None = None,
    crs: Any = None,
    transform: Any = None,
    progress: ProgressCallback | None = None,
) -> ExportResult | GeoTiffResult:
    """Export an image as described by an Earth Engine REST ``ImageFileExportOptions``.

    Parameters
    ----------
    image
        Anything :func:`~geotfrecord.export_image` takes (numpy, a mapping of bands, a GeoTIFF path
        or URL, a rasterio dataset, xarray).
    options
        The ``ImageFileExportOptions`` JSON: a dict, JSON text, the path or URL of a .json file, or
        an :class:`ImageFileExportOptions`.
    destination
        Output prefix (local path or fsspec URL such as ``memory://out/scene`` or
        ``s3://bucket/scene``) used instead of the JSON's ``driveDestination`` /
        ``cloudStorageDestination``, which may then be left out.
    storage_options
        fsspec options for a URL destination (credentials, ``client_kwargs={"endpoint_url": ...}``).
    bands, band_names, mask, nodata, crs, transform, progress
        As for :func:`~geotfrecord.export_image` and :func:`~geotfrecord.export_geotiff`.

    Returns
    -------
    GeoTiffResult or ExportResult
        For ``GEO_TIFF`` and ``TF_RECORD_IMAGE`` respectively.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> result = export(np.zeros((2, 64, 64), np.float32), {
    ...     "fileFormat": "TF_RECORD_IMAGE",
    ...     "driveDestination": {"folder": folder, "filenamePrefix": "scene"},
    ...     "tfRecordOptions": {"tileDimensions": {"width": 32, "height": 32}, "compress": True},
    ... })
    >>> [os.path.basename(f) for f in result.files], os.path.basename(result.mixer)
    (['scene-00000.tfrecord.gz'], 'scene-mixer.json')
    """
    if isinstance(options, ImageFileExportOptions):
        request = options
        if destination is not None:
            request = ImageFileExportOptions(request.file_format, os.fspath(destination), request.format_options)
    else:
        request = ImageFileExportOptions.from_rest(
            options, destination=None if destination is None else os.fspath(destination)
        )
    prefix = request.destination
    _check_destination(prefix, storage_options)  # before any pixel is read
    source = {"bands": bands, "band_names": band_names, "mask": mask, "nodata": nodata, "crs": crs}
    source.update(transform=transform, progress=progress)
    if request.file_format == "GEO_TIFF":
        return export_geotiff(
            image, prefix, format_options=request.format_options, storage_options=storage_options, **source
        )
    extra: dict[str, Any] = {}
    if storage_options:
        if not _export_image_takes("storage_options"):
            raise OptionsError(
                "storage_options",
                "not supported yet for TF_RECORD_IMAGE; configure the filesystem through fsspec's configuration "
                "(fsspec.config.conf or FSSPEC_<PROTOCOL>_<OPTION> environment variables) instead",
            )
        extra["storage_options"] = storage_options
    return export_image(image, prefix, format_options=request.format_options, **source, **extra)
