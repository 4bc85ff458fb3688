"""Image → GeoTIFF (or Cloud Optimized GeoTIFF), with Earth Engine's options and file names.

The flow: options → grid of pieces (one piece, ``<prefix>.tif``, when the image fits in
``tileDimensions``; otherwise ``<prefix>-<yMin>-<xMin>.tif`` pieces of at most that size, row-major,
the last ones along the right and bottom edges smaller) → each piece read strip by strip from the
source and written with GDAL to a temporary file → for ``cloudOptimized``, copied by GDAL's COG
driver → published under its final name.

Masked pixels: with ``noData`` they take that value in every band where they are masked and the
value is stored as the file's nodata; without it they take 0 and the file gets an internal
per-dataset mask (GDAL's ``.msk`` band inside the TIFF) marking a pixel invalid where it is masked
in *every* band, so no valid value is ever hidden. A piece that never has a masked pixel gets no mask.

Examples
--------
>>> import numpy as np, os, tempfile
>>> image = np.arange(2 * 300 * 520, dtype=np.float32).reshape(2, 300, 520)
>>> out = tempfile.mkdtemp() + "/scene"
>>> result = export_geotiff(image, out, file_dimensions=256, crs="EPSG:32633",
...                         transform=(10, 0, 280000, 0, -10, 4650000))
>>> [os.path.basename(f) for f in result.files][:2]
['scene-0000000000-0000000000.tif', 'scene-0000000000-0000000256.tif']
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import shutil
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ._files import TEMP_SUFFIX, _local_path, is_local
from .errors import DestinationError, OptionsError
from .image_export import _select_bands
from .naming import geotiff_name, geotiff_piece_name
from .options import Spellings, _bool, _grid, _is_int, _is_number, _reject_unknown, _unwrap
from .sources import IDENTITY, ImageSource

__all__ = ["DEFAULT_TILE_SIZE", "GeoTiffOptions", "GeoTiffResult", "export_geotiff"]

#: GeoTIFF ``tileSize`` / ``shardSize`` default: 256 x 256 blocks.
DEFAULT_TILE_SIZE = 256
#: Bytes of source and output pixels one strip of a piece may hold.
STRIP_BUDGET = 64 << 20
#: Bytes copied at a time when uploading a finished file to an object store.
UPLOAD_CHUNK = 8 << 20
#: Compression of the written files (lossless).
COMPRESS = "DEFLATE"
#: How the overviews of a Cloud Optimized GeoTIFF are computed (Earth Engine's default pyramiding is the mean).
OVERVIEW_RESAMPLING = "AVERAGE"

ProgressCallback = Callable[[int, int], None]

_INT64 = np.iinfo(np.int64)
_FLOAT_WORDS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

# attribute → (ee.batch spelling, REST GeoTiffImageExportOptions spelling)
_SPELLINGS = Spellings(
    {
        "cloud_optimized": ("cloudOptimized", "cloudOptimized"),
        "file_dimensions": ("fileDimensions", "tileDimensions"),
        "skip_empty_files": ("skipEmptyTiles", "skipEmptyFiles"),
        "tile_size": ("shardSize", "tileSize"),
        "no_data": ("noData", "noData"),
    }
)
_FORMAT = _SPELLINGS.format
_REST = _SPELLINGS.rest


def _rest_names(prefix: str = "") -> dict[str, str]:
    names = {attr: prefix + rest for attr, (_, rest) in _SPELLINGS.table.items()}
    names["width"] = names["file_dimensions"] + ".width"
    names["height"] = names["file_dimensions"] + ".height"
    return names


def _format_names(prefix: str = "") -> dict[str, str]:
    names = {attr: prefix + ee for attr, (ee, _) in _SPELLINGS.table.items()}
    names["width"] = names["file_dimensions"] + "[0]"
    names["height"] = names["file_dimensions"] + "[1]"
    return names


def _number(value: Any, name: str) -> float | int:
    """A REST ``Number``: ``{"floatValue": x}`` or ``{"integerValue": "<int64 decimal>"}``."""
    if not isinstance(value, Mapping):
        raise OptionsError(name, f"must be a Number object {{floatValue}} or {{integerValue}}, got {value!r}")
    _reject_unknown(value, {"floatValue": 0, "integerValue": 0}, name + ".")
    if len(value) != 1:
        raise OptionsError(name, "needs exactly one of floatValue, integerValue (union field value)")
    if "floatValue" in value:
        v = value["floatValue"]
        if isinstance(v, str) and v in _FLOAT_WORDS:  # proto3 JSON spells non-finite doubles as strings
            return _FLOAT_WORDS[v]
        if not _is_number(v):
            raise OptionsError(name + ".floatValue", f"must be a number, got {v!r}")
        return float(v)
    v = value["integerValue"]
    if isinstance(v, str) and v.strip().lstrip("+-").isdigit():
        number = int(v.strip())
    elif _is_int(v):
        number = int(v)
    else:
        raise OptionsError(name + ".integerValue", f"must be an int64 decimal string, got {v!r}")
    if not _INT64.min <= number <= _INT64.max:
        raise OptionsError(name + ".integerValue", f"out of the int64 range, got {v!r}")
    return number


def _validate(values: dict[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """Check and normalise every option; ``names`` says how the caller spelled each one."""
    out = dict(values)
    for attr in ("cloud_optimized", "skip_empty_files"):
        out[attr] = _bool(values[attr], names[attr])
    size = values["tile_size"]
    if not _is_int(size) or size <= 0 or size % 16:
        raise OptionsError(names["tile_size"], f"must be a positive multiple of 16 (GeoTIFF tiles), got {size!r}")
    out["tile_size"] = int(size)
    dims = values["file_dimensions"]
    if dims is not None:
        pair = (dims, dims) if _is_int(dims) else dims
        if isinstance(pair, (str, bytes, Mapping)) or not hasattr(pair, "__len__") or len(pair) != 2:
            raise OptionsError(names["file_dimensions"], f"must be an integer or (width, height), got {dims!r}")
        for axis, v in zip(("width", "height"), pair, strict=True):
            if not _is_int(v) or v <= 0:
                raise OptionsError(names[axis], f"must be a positive integer, got {v!r}")
            if v % size:
                raise OptionsError(names[axis], f"must be a multiple of the tile size {size}, got {v}")
        out["file_dimensions"] = (int(pair[0]), int(pair[1]))
    no_data = values["no_data"]
    if no_data is not None:
        if not _is_number(no_data):
            raise OptionsError(names["no_data"], f"must be a number, got {no_data!r}")
        out["no_data"] = int(no_data) if _is_int(no_data) else float(no_data)
    return out


@dataclass(frozen=True)
class GeoTiffOptions:
    """Validated options of an image export to GeoTIFF.

    Build it from Python keywords, :meth:`from_format_options` (ee.batch spelling: ``cloudOptimized``,
    ``fileDimensions``, ``skipEmptyTiles``, ``shardSize``, ``noData``) or :meth:`from_rest` (REST
    ``GeoTiffImageExportOptions``: ``cloudOptimized``, ``tileDimensions``, ``skipEmptyFiles``,
    ``tileSize``, ``noData``); all validate the same way and name a bad field as it was spelled.

    ``file_dimensions`` (width, height), or one integer for a square, is the largest piece the image
    is split into; each side must be a multiple of ``tile_size``. None: never split. ``no_data`` is an
    integer when it came from ``integerValue``, else a float.

    Examples
    --------
    >>> a = GeoTiffOptions.from_format_options({"fileDimensions": [512, 256], "shardSize": 128, "noData": -1})
    >>> b = GeoTiffOptions.from_rest({"tileDimensions": {"width": 512, "height": 256}, "tileSize": 128,
    ...                               "noData": {"floatValue": -1}})
    >>> a == b, a.file_dimensions
    (True, (512, 256))
    >>> GeoTiffOptions(file_dimensions=(300, 256))
    Traceback (most recent call last):
    ...
    geotfrecord.errors.OptionsError: tileDimensions.width: must be a multiple of the tile size 256, got 300
    """

    cloud_optimized: bool = False
    file_dimensions: tuple[int, int] | None = None
    skip_empty_files: bool = False
    tile_size: int = DEFAULT_TILE_SIZE
    no_data: float | int | None = None

    def __post_init__(self) -> None:
        values = _validate({f.name: getattr(self, f.name) for f in fields(self)}, _rest_names())
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @classmethod
    def from_rest(cls, options: Mapping[str, Any], *, prefix: str = "") -> GeoTiffOptions:
        """From the REST ``GeoTiffImageExportOptions`` JSON; ``prefix`` is prepended to field names in errors."""
        if not isinstance(options, Mapping):
            raise OptionsError(prefix.rstrip(".") or "geoTiffOptions", f"must be an object, got {options!r}")
        _reject_unknown(options, _REST, prefix)
        values = {f.name: f.default for f in fields(cls)}
        for key, value in options.items():
            attr, name = _REST[key], prefix + key
            if attr == "file_dimensions":
                value = _grid(value, name)
            elif attr == "tile_size":
                value = _unwrap(value, name)  # Earth Engine's client sends {"value": shardSize}
            elif attr == "no_data":
                value = _number(value, name)
            values[attr] = value
        return cls(**_validate(values, _rest_names(prefix)))

    @classmethod
    def from_format_options(cls, options: Mapping[str, Any], *, prefix: str = "") -> GeoTiffOptions:
        """From ``ee.batch.Export`` parameters: ``cloudOptimized``, ``fileDimensions``, ``skipEmptyTiles``,
        ``shardSize``, ``noData`` (a plain number, sent by the client as ``floatValue``)."""
        if not isinstance(options, Mapping):
            raise OptionsError(prefix.rstrip(".") or "formatOptions", f"must be an object, got {options!r}")
        _reject_unknown(options, _FORMAT, prefix)
        values = {f.name: f.default for f in fields(cls)}
        names = _format_names(prefix)
        for key, value in options.items():
            attr = _FORMAT[key]
            if attr == "no_data":
                if not _is_number(value):
                    raise OptionsError(names[attr], f"must be a number, got {value!r}")
                value = float(value)
            values[attr] = value
        return cls(**_validate(values, names))

    @classmethod
    def from_any(cls, options: Mapping[str, Any], *, prefix: str = "") -> GeoTiffOptions:
        """From either spelling, told apart by its keys; mixing the two is an error."""
        if _SPELLINGS.is_rest(options, prefix) or isinstance(options.get("noData"), Mapping):
            return cls.from_rest(options, prefix=prefix)
        return cls.from_format_options(options, prefix=prefix)

    def to_rest(self) -> dict[str, Any]:
        """The REST ``GeoTiffImageExportOptions`` spelling of these options."""
        out: dict[str, Any] = {
            "cloudOptimized": self.cloud_optimized,
            "skipEmptyFiles": self.skip_empty_files,
            "tileSize": self.tile_size,
        }
        if self.file_dimensions is not None:
            out["tileDimensions"] = {"width": self.file_dimensions[0], "height": self.file_dimensions[1]}
        if isinstance(self.no_data, int):
            out["noData"] = {"integerValue": str(self.no_data)}
        elif self.no_data is not None:
            out["noData"] = {"floatValue": self.no_data}
        return out

    def to_format_options(self) -> dict[str, Any]:
        """The ee.batch spelling of these options."""
        out: dict[str, Any] = {
            "cloudOptimized": self.cloud_optimized,
            "skipEmptyTiles": self.skip_empty_files,
            "shardSize": self.tile_size,
        }
        if self.file_dimensions is not None:
            out["fileDimensions"] = list(self.file_dimensions)
        if self.no_data is not None:
            out["noData"] = self.no_data
        return out


@dataclass(frozen=True)
class GeoTiffResult:
    """What a GeoTIFF export wrote.

    ``files`` are the written files in row-major order of their pieces and ``offsets`` the
    (yMin, xMin) pixel offset of each; ``skipped`` names the fully masked pieces left out by
    ``skipEmptyFiles``; ``total_files`` counts written and skipped pieces.
    """

    files: tuple[str, ...]
    offsets: tuple[tuple[int, int], ...]
    skipped: tuple[str, ...]
    total_files: int
    options: GeoTiffOptions


def _resolve_options(
    format_options: Mapping[str, Any] | GeoTiffOptions | None, keywords: dict[str, Any]
) -> GeoTiffOptions:
    if format_options is None:
        return GeoTiffOptions(**keywords)
    defaults = {f.name: f.default for f in fields(GeoTiffOptions)}
    changed = [k for k, v in keywords.items() if v != defaults[k]]
    if changed:
        raise OptionsError(changed[0], "give the options either as format_options or as keywords, not both")
    if isinstance(format_options, GeoTiffOptions):
        return format_options
    return GeoTiffOptions.from_any(format_options)


def export_geotiff(
    image: Any,
    prefix: str | os.PathLike[str],
    *,
    cloud_optimized: bool = False,
    file_dimensions: tuple[int, int] | int | None = None,
    skip_empty_files: bool = False,
    tile_size: int = DEFAULT_TILE_SIZE,
    no_data: float | None = None,
    format_options: Mapping[str, Any] | GeoTiffOptions | None = None,
    bands: Sequence[str] | None = None,
    band_names: Sequence[str] | None = None,
    mask: Any = None,
    nodata: float | None = None,
    crs: Any = None,
    transform: Any = None,
    region: Any = None,
    region_crs: Any = None,
    scale: float | None = None,
    crs_transform: Any = None,
    dimensions: Any = None,
    max_pixels: float | None = None,
    resampling: str = "nearest",
    storage_options: Mapping[str, Any] | None = None,
    progress: ProgressCallback | None = None,
) -> GeoTiffResult:
    """Export an image to GeoTIFF files as Earth Engine's ``Export.image`` does with ``fileFormat: GeoTIFF``.

    Parameters
    ----------
    image
        A numpy array (bands, rows, cols), a mapping of band name to array, a GeoTIFF/COG path or URL,
        an open rasterio dataset, or an xarray DataArray/Dataset. Scalar bands only: array bands
        (:class:`~geotfrecord.ArrayBand`, 3-D bands) raise :class:`~geotfrecord.OptionsError`.
    prefix
        Output prefix, local or an fsspec URL: ``<prefix>.tif`` when the image fits in one file,
        else ``<prefix>-<yMin>-<xMin>.tif`` (10-digit pixel offsets of each piece, row first).
    cloud_optimized
        Write Cloud Optimized GeoTIFFs (GDAL's COG driver: tiled, internal overviews computed with
        the mean, header and IFDs first).
    file_dimensions
        (width, height), or one integer for a square: split the image into pieces of at most this
        size when it is larger; each side a multiple of ``tile_size``. None: one file.
    skip_empty_files
        Do not write pieces whose pixels are all masked (in every band).
    tile_size
        Side of the GeoTIFF's internal tiles (GDAL block size), a multiple of 16.
    no_data
        Value written at masked pixels and stored as the file's nodata. When None, masked pixels
        are 0 and an internal per-dataset mask marks the pixels masked in every band.
    format_options
        Instead of the keywords above: a dict in either Earth Engine spelling (REST
        ``GeoTiffImageExportOptions`` or ee.batch), or a :class:`GeoTiffOptions`.
    bands
        Names of the bands to export, in order (default: all). They are written as one data type,
        the smallest that holds every band's values exactly (uint8 + int16 → int16; bool → uint8).
    band_names, mask, nodata, transform
        Describe an array input (``mask`` True where masked, ``nodata`` an *input* value to mask,
        ``transform`` its affine). Band names become the band descriptions.
    region, region_crs, crs, scale, crs_transform, dimensions, max_pixels, resampling
        Export.image's output grid, as for :func:`~geotfrecord.export_image` (see
        :mod:`geotfrecord.grid`); ``crs`` is also the CRS of an array input.
    storage_options
        Passed to fsspec for URL prefixes (e.g. ``{"client_kwargs": {"endpoint_url": ...}}`` for S3).
    progress
        Called as ``progress(files_done, total_files)`` after each piece.

    Returns
    -------
    GeoTiffResult

    Notes
    -----
    Every file is written under a temporary name (``.<name>.<token>.geotfrecord-tmp``) and renamed
    into place when every piece of the export is complete; for object stores each piece is written
    to a local temporary file and uploaded when complete (an object appears only when its upload
    finishes), and the pieces of a failed export are removed. Memory is bounded by one strip of
    a piece (about :data:`STRIP_BUDGET` bytes), whatever the size of the image.

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> image = np.ones((3, 100, 130), dtype=np.uint16)
    >>> result = export_geotiff(image, tempfile.mkdtemp() + "/scene", tile_size=64, crs="EPSG:4326",
    ...                         transform=(0.01, 0, 12.0, 0, -0.01, 42.0))
    >>> os.path.basename(result.files[0])
    'scene.tif'
    """
    options = _resolve_options(
        format_options,
        {
            "cloud_optimized": cloud_optimized,
            "file_dimensions": file_dimensions,
            "skip_empty_files": skip_empty_files,
            "tile_size": tile_size,
            "no_data": no_data,
        },
    )
    from .image_export import open_export_source, source_keywords

    describe, grid = source_keywords(
        band_names=band_names, mask=mask, nodata=nodata, crs=crs, transform=transform, region=region,
        region_crs=region_crs, scale=scale, crs_transform=crs_transform, dimensions=dimensions,
        resampling=resampling, max_pixels=max_pixels,
    )  # fmt: skip
    source = open_export_source(image, describe, grid)
    try:
        return _export(source, os.fspath(prefix), options, bands, storage_options, progress)
    finally:
        if source is not image:
            source.close()


def _output_dtype(source: ImageSource, indices: list[int]) -> np.dtype:
    """One data type for every band (a GeoTIFF has one), holding each band's values exactly."""
    for i in indices:
        name, dtype = source.band_names[i], source.dtypes[i]
        if source.depths[i] is not None:
            raise OptionsError(f"image.{name}", f"{name!r} is an array band; a GeoTIFF holds scalar bands only")
        if dtype.kind not in "biuf":
            raise OptionsError(f"image.{name}", f"band type {dtype} cannot be exported (numbers only)")
    dtypes = [np.dtype(np.uint8) if source.dtypes[i].kind == "b" else source.dtypes[i] for i in indices]
    out = np.result_type(*dtypes)
    if out.kind == "f" and all(d.kind in "iu" for d in dtypes):
        raise OptionsError("bands", f"no integer type holds all of {sorted({d.name for d in dtypes})}; cast them first")
    return np.dtype(np.float32) if out == np.float16 else out


def _fill_value(no_data: float | int | None, dtype: np.dtype) -> float | int:
    """The value of masked pixels in ``dtype``; an unrepresentable noData is an error, not a wrap-around."""
    if no_data is None:
        return 0
    if dtype.kind == "f":
        finfo = np.finfo(dtype)
        if math.isfinite(no_data) and abs(no_data) > float(finfo.max):
            raise OptionsError("noData", f"{no_data!r} is out of the range of the bands' type {dtype}")
        return float(no_data)
    info = np.iinfo(dtype)
    if isinstance(no_data, float) and not no_data.is_integer():
        raise OptionsError("noData", f"{no_data!r} is not a whole number; the bands are {dtype}")
    if not info.min <= int(no_data) <= info.max:
        raise OptionsError("noData", f"{no_data!r} is out of the range of the bands' type {dtype}")
    return int(no_data)


class _Publisher:
    """Temporary files for each piece, and their publication under the final names.

    Local pieces are written beside their final name and renamed together by :meth:`commit`; pieces
    bound for an object store are written in a local scratch folder and uploaded as each is complete
    (and removed again by :meth:`abort`).
    """

    def __init__(self, prefix: str, storage_options: Mapping[str, Any] | None) -> None:
        self.local = is_local(prefix)
        self._storage_options = dict(storage_options or {})
        self._pending: list[tuple[str, str]] = []  # (temporary, final) local paths
        self._uploaded: list[str] = []
        self._scratch = None if self.local else tempfile.mkdtemp(prefix="geotfrecord-geotiff-")

    def temporary(self, final: str, tag: str = "") -> str:
        """A fresh temporary path for the file that will be published as ``final``."""
        token = secrets.token_hex(4)
        if not self.local:
            return os.path.join(self._scratch, f"{token}{tag}.tif")
        folder, name = os.path.split(_local_path(final))
        if folder:
            os.makedirs(folder, exist_ok=True)
        return os.path.join(folder, f".{name}.{token}{tag}{TEMP_SUFFIX}")

    def done(self, temporary: str, final: str) -> None:
        """``temporary`` is complete: schedule its rename (local) or upload it now (object store)."""
        if self.local:
            self._pending.append((temporary, _local_path(final)))
            return
        try:
            self._upload(temporary, final)
        finally:
            _remove(temporary)
        self._uploaded.append(final)

    def _upload(self, local: str, url: str) -> None:
        """Copy a finished file to the object store; the object appears only when the upload completes.

        Not through AtomicOutput: it takes no storage options, and it resolves URLs with
        ``get_fs_token_paths(mode="wb")``, which writes to ``<url>/0.part``.
        """
        fs, path = _fs(url, self._storage_options)
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent:
            with contextlib.suppress(Exception):
                fs.makedirs(parent, exist_ok=True)
        dst = fs.open(path, "wb")
        try:
            with open(local, "rb") as src:
                shutil.copyfileobj(src, dst, UPLOAD_CHUNK)
        except BaseException:
            discard = getattr(dst, "discard", None)  # multipart uploads: abandon rather than publish
            with contextlib.suppress(Exception):
                discard() if callable(discard) else dst.close()
            with contextlib.suppress(Exception):
                fs.rm(path)
            raise
        dst.close()

    def commit(self) -> None:
        """Rename every local piece into place."""
        for temporary, final in self._pending:
            os.replace(temporary, final)
        self._pending.clear()
        self._cleanup()

    def abort(self) -> None:
        """Remove every temporary file and every piece already uploaded by this export."""
        for temporary, _ in self._pending:
            _remove(temporary)
        self._pending.clear()
        for url in self._uploaded:
            with contextlib.suppress(Exception):
                fs, path = _fs(url, self._storage_options)
                fs.rm(path)
        self._uploaded.clear()
        self._cleanup()

    def _cleanup(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None


def _fs(url: str, storage_options: Mapping[str, Any]) -> tuple[Any, str]:
    import fsspec

    return fsspec.core.url_to_fs(url, **storage_options)


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _check_destination(prefix: str, storage_options: Mapping[str, Any] | None) -> None:
    """Fail before any pixel is read when the URL's filesystem cannot be used."""
    if is_local(prefix):
        return
    try:
        _fs(prefix, storage_options or {})
    except ImportError as err:
        raise DestinationError(f"{prefix}: {err}") from err
    except ValueError as err:
        raise DestinationError(f"{prefix}: {err}") from err


def _piece_grid(height: int, width: int, options: GeoTiffOptions) -> list[tuple[int, int, int, int]]:
    """(y0, x0, rows, cols) of each piece, row-major; one piece when the image fits."""
    if options.file_dimensions is None:
        return [(0, 0, height, width)]
    fw, fh = options.file_dimensions
    if width <= fw and height <= fh:
        return [(0, 0, height, width)]
    return [
        (y0, x0, min(fh, height - y0), min(fw, width - x0)) for y0 in range(0, height, fh) for x0 in range(0, width, fw)
    ]


def _export(
    source: ImageSource,
    prefix: str,
    options: GeoTiffOptions,
    bands: Sequence[str] | None,
    storage_options: Mapping[str, Any] | None,
    progress: ProgressCallback | None,
) -> GeoTiffResult:
    import rasterio

    indices = _select_bands(source, bands)
    dtype = _output_dtype(source, indices)
    fill = _fill_value(options.no_data, dtype)
    _check_destination(prefix, storage_options)
    grid = _piece_grid(source.height, source.width, options)
    split = len(grid) > 1
    publisher = _Publisher(prefix, storage_options)
    files: list[str] = []
    offsets: list[tuple[int, int]] = []
    skipped: list[str] = []
    try:
        # An internal mask rather than a .msk sidecar; the cache bounded like the strips.
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True, GDAL_CACHEMAX=STRIP_BUDGET):
            for done, (y0, x0, rows, cols) in enumerate(grid, start=1):
                final = geotiff_piece_name(prefix, y0, x0) if split else geotiff_name(prefix)
                temporary = publisher.temporary(final)
                try:
                    has_data = _write_piece(source, indices, dtype, fill, options, (y0, x0, rows, cols), temporary)
                    if options.skip_empty_files and not has_data:
                        _remove(temporary)
                        skipped.append(final)
                    else:
                        if options.cloud_optimized:
                            cog = publisher.temporary(final, ".cog")
                            try:
                                with _quiet_if_ungeoreferenced(_georeferenced(source)):
                                    _to_cog(temporary, cog, options.tile_size)
                            except BaseException:
                                _remove(cog)
                                raise
                            finally:
                                _remove(temporary)
                            temporary = cog
                        publisher.done(temporary, final)
                        files.append(final)
                        offsets.append((y0, x0))
                except BaseException:
                    _remove(temporary)
                    raise
                if progress is not None:
                    progress(done, len(grid))
        publisher.commit()
    except BaseException:
        publisher.abort()
        raise
    return GeoTiffResult(tuple(files), tuple(offsets), tuple(skipped), len(grid), options)


def _georeferenced(source: ImageSource) -> bool:
    return source.crs is not None or tuple(source.transform) != IDENTITY


@contextlib.contextmanager
def _quiet_if_ungeoreferenced(georeferenced: bool) -> Any:
    """rasterio warns when a file gets no geotransform; an image without one is meant to have none."""
    if georeferenced:
        yield
        return
    from rasterio.errors import NotGeoreferencedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        yield


def _write_piece(
    source: ImageSource,
    indices: list[int],
    dtype: np.dtype,
    fill: float | int,
    options: GeoTiffOptions,
    piece: tuple[int, int, int, int],
    path: str,
) -> bool:
    """Write one piece to a tiled GeoTIFF at ``path``, strip by strip; True if any pixel is valid."""
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window

    y0, x0, rows, cols = piece
    size = options.tile_size
    georeferenced = _georeferenced(source)
    profile: dict[str, Any] = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": len(indices),
        "dtype": dtype.name,
        "tiled": True,
        "blockxsize": size,
        "blockysize": size,
        "BIGTIFF": "IF_SAFER",
    }
    if not options.cloud_optimized:  # the COG copy compresses; its input is scratch
        profile["compress"] = COMPRESS
    if options.no_data is not None:
        profile["nodata"] = fill
    if georeferenced:
        profile["crs"] = source.crs
        a, b, c, d, e, f = source.transform  # moved to the piece's top-left pixel
        profile["transform"] = Affine(a, b, a * x0 + b * y0 + c, d, e, d * x0 + e * y0 + f)
    row_bytes = cols * (1 + sum(source.dtypes[i].itemsize + dtype.itemsize for i in indices))
    strip_rows = max(size, STRIP_BUDGET // max(1, row_bytes) // size * size)
    has_data = False
    mask_started = False
    with _quiet_if_ungeoreferenced(georeferenced), rasterio.open(path, "w", **profile) as dst:
        for k, i in enumerate(indices, start=1):
            dst.set_band_description(k, source.band_names[i])
        for r0 in range(0, rows, strip_rows):
            r1 = min(rows, r0 + strip_rows)
            window = Window(0, r0, cols, r1 - r0)
            data = np.empty((len(indices), r1 - r0, cols), dtype=dtype)
            valid = np.zeros((r1 - r0, cols), dtype=bool)
            for k, band in enumerate(source.read(y0 + r0, y0 + r1, x0, x0 + cols, indices)):
                np.copyto(data[k], band.values[0], casting="unsafe")
                if band.mask.any():
                    np.copyto(data[k], dtype.type(fill), where=band.mask)
                valid |= ~band.mask
            dst.write(data, window=window)
            del data
            has_data = has_data or bool(valid.any())
            if options.no_data is None and (mask_started or not valid.all()):
                if not mask_started:
                    # The mask band starts all-invalid: mark the strips already written as valid.
                    for m0 in range(0, r0, strip_rows):
                        m1 = min(r0, m0 + strip_rows)
                        dst.write_mask(np.full((m1 - m0, cols), 255, np.uint8), window=Window(0, m0, cols, m1 - m0))
                    mask_started = True
                dst.write_mask(np.where(valid, np.uint8(255), np.uint8(0)), window=window)
    return has_data


def _to_cog(src: str, dst: str, tile_size: int) -> None:
    """Copy a GeoTIFF into a Cloud Optimized GeoTIFF with GDAL's COG driver."""
    import rasterio.shutil

    rasterio.shutil.copy(
        src,
        dst,
        driver="COG",
        BLOCKSIZE=tile_size,
        COMPRESS=COMPRESS,
        RESAMPLING=OVERVIEW_RESAMPLING,
        OVERVIEWS="AUTO",
        BIGTIFF="IF_SAFER",
    )
