"""Image → TFRecord, with Earth Engine's semantics and file layout.

The flow: options → patch grid → for each row of patches, strips of the image read window by
window (so memory does not grow with the image) → the core encodes every tile of a strip into
framed Example (or per-pixel SequenceExample) records → shards rotate at ``maxFileSize`` → the
mixer is written last, when every shard is in place.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _core
from ._files import remove_stale_temporaries
from .errors import OptionsError
from .examples import KIND_BYTES, KIND_FLOAT, KIND_INT64
from .grid import check_max_pixels, on_grid, resolve_grid
from .mixer import Mixer
from .naming import image_shard_name, image_shard_pattern, mixer_name
from .options import TFRecordOptions
from .records import ShardWriter, default_threads, gzip_settings
from .sources import BandWindow, ImageSource, open_source

__all__ = ["ExportResult", "export_image"]

#: Bytes of strip data one encoding step may hold; wide images are cut into column chunks of tiles.
STRIP_BUDGET = 64 << 20
ProgressCallback = Callable[[int, int], None]

_OUTPUT_DTYPES = {
    KIND_FLOAT: np.dtype(np.float32),
    KIND_INT64: np.dtype(np.int64),
    KIND_BYTES: np.dtype(np.uint8),
}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote.

    ``files`` are the TFRecord shards in record order; ``mixer`` is None when ``maskedThreshold`` < 1.
    ``bytes_written`` counts framed bytes before compression.
    """

    files: tuple[str, ...]
    mixer: str | None
    patches_written: int
    patches_dropped: int
    total_patches: int
    records_written: int
    bytes_written: int
    options: TFRecordOptions


@dataclass(frozen=True)
class _BandPlan:
    """How one source band is written."""

    source_index: int
    name: str
    kind: int
    depth: int  # values per pixel written (1 for a scalar band)
    is_array: bool
    variable_length: bool  # sequence export of an array band without a tensorDepths entry
    default: float | int  # defaultValue as this band's values take it


def _integer_default(value: float, dtype: np.dtype, band: str) -> int:
    """defaultValue for an integer band: fractional part dropped, clamped to the type's range."""
    if math.isnan(value):
        raise OptionsError("defaultValue", f"NaN cannot be stored in integer band {band!r} ({dtype})")
    info = np.iinfo(dtype) if dtype.kind != "b" else np.iinfo(np.uint8)
    hi = 1 if dtype.kind == "b" else info.max
    if math.isinf(value):
        return hi if value > 0 else info.min
    return int(min(max(math.trunc(value), info.min), hi))


def _output_kind(dtype: np.dtype, options: TFRecordOptions) -> int:
    if options.integer_encoding == "float" or dtype.kind == "f":
        return KIND_FLOAT
    if dtype.kind in "ub" and dtype.itemsize == 1 and not options.sequence_data:
        return KIND_BYTES
    return KIND_INT64


def _plan_bands(source: ImageSource, indices: list[int], options: TFRecordOptions) -> list[_BandPlan]:
    names = [source.band_names[i] for i in indices]
    for band in options.tensor_depths:
        if band not in names:
            raise OptionsError(f"tensorDepths.{band}", f"no band named {band!r} (bands: {', '.join(names)})")
    plans = []
    for i in indices:
        name, dtype, src_depth = source.band_names[i], source.dtypes[i], source.depths[i]
        if dtype.kind not in "biuf":
            raise OptionsError(f"image.{name}", f"band type {dtype} cannot be exported (numbers only)")
        is_array = src_depth is not None
        if not is_array and name in options.tensor_depths:
            raise OptionsError(f"tensorDepths.{name}", f"band {name!r} is not an array band")
        depth_option = options.tensor_depths.get(name)
        if is_array and depth_option is None and (not options.sequence_data or options.collapse_bands):
            raise OptionsError(f"tensorDepths.{name}", f"required: {name!r} is an array band")
        kind = _output_kind(dtype, options)
        if dtype.kind == "f":
            default: float | int = float(np.float32(options.default_value)) if kind == KIND_FLOAT else 0
        else:
            default = _integer_default(options.default_value, dtype, name)
        depth = 1 if not is_array else (depth_option or int(src_depth))
        plans.append(_BandPlan(i, name, kind, depth, is_array, is_array and depth_option is None, default))
    return plans


def _band_values(window: BandWindow, plan: _BandPlan, kind: int) -> np.ndarray:
    """(depth, rows, cols) in the output type, masked pixels and missing array elements at the default."""
    values = window.values
    dtype = _OUTPUT_DTYPES[kind]
    depth = plan.depth
    out = np.empty((depth, *values.shape[1:]), dtype=dtype)
    have = min(depth, values.shape[0])
    np.copyto(out[:have], values[:have], casting="unsafe")
    if have < depth:
        out[have:] = plan.default
    if plan.is_array and window.lengths is not None and not plan.variable_length:
        missing = np.arange(depth)[:, None, None] >= window.lengths[None]
        np.copyto(out, dtype.type(plan.default), where=missing)
    if window.mask.any():
        np.copyto(out, dtype.type(plan.default), where=window.mask[None])
    return out


def _resolve_options(
    format_options: Mapping[str, Any] | TFRecordOptions | None, keywords: dict[str, Any]
) -> TFRecordOptions:
    given = {k: v for k, v in keywords.items() if v is not None}
    if format_options is None:
        if "patch_dimensions" not in given:
            raise OptionsError("patchDimensions", "required (patch_dimensions=(width, height))")
        return TFRecordOptions(**given)
    if given:
        raise OptionsError(next(iter(given)), "give the options either as format_options or as keywords, not both")
    if isinstance(format_options, TFRecordOptions):
        return format_options
    return TFRecordOptions.from_any(format_options)


def export_image(
    image: Any,
    prefix: str | os.PathLike[str],
    *,
    patch_dimensions: tuple[int, int] | None = None,
    kernel_size: tuple[int, int] | None = None,
    compressed: bool | None = None,
    max_file_size: int | None = None,
    default_value: float | None = None,
    tensor_depths: Mapping[str, int] | None = None,
    sequence_data: bool | None = None,
    collapse_bands: bool | None = None,
    masked_threshold: float | None = None,
    integer_encoding: str | None = None,
    format_options: Mapping[str, Any] | TFRecordOptions | None = None,
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
    gzip_level: int | None = None,
    gzip_engine: str | None = None,
    threads: int | None = None,
    progress: ProgressCallback | None = None,
    client: Any = None,
    storage_options: Mapping[str, Any] | None = None,
) -> ExportResult:
    """Export an image to TFRecord files exactly as Earth Engine's ``Export.image`` does.

    Parameters
    ----------
    image
        A numpy array (bands, rows, cols), a mapping of band name to array or
        :class:`~geotfrecord.ArrayBand`, a GeoTIFF/COG path or URL, an open rasterio dataset, or an
        xarray DataArray/Dataset (georeferenced the rioxarray way).
    prefix
        Output prefix, local or an fsspec URL: shards are ``<prefix>-00000.tfrecord.gz`` … and the
        mixer ``<prefix>-mixer.json`` (no hyphen after a prefix ending in ``/``).
    patch_dimensions, kernel_size, compressed, max_file_size, default_value, tensor_depths,
    sequence_data, collapse_bands, masked_threshold
        Earth Engine's ``formatOptions`` (see :class:`~geotfrecord.options.TFRecordOptions`).
        ``maskedThreshold`` compares the fraction of the tile's pixels (buffer included) where any
        exported band is masked.
    integer_encoding
        ``"float"`` (default, Earth Engine's documented coercion of every number to float) or
        ``"native"``: uint8 bands as one raw byte string per band, other integer bands as int64 lists.
    format_options
        Instead of keywords: a dict in either Earth Engine spelling (ee.batch ``formatOptions`` or
        REST ``TfRecordImageExportOptions``), or a ``TFRecordOptions``.
    bands
        Names of the bands to export, in order (default: all, in the image's order).
    band_names, mask, nodata, transform
        Describe an array input (``mask`` True where masked; ``transform`` its affine).
    region, region_crs, crs, scale, crs_transform, dimensions, max_pixels, resampling
        Export.image's output grid (see :mod:`geotfrecord.grid`): the region (pixels outside it are
        masked), the output CRS (for an array input, its CRS), metres per pixel, the affine of the
        pixel grid, the size in pixels, the largest number of pixels allowed (default 1e8, as in Earth
        Engine) and GDAL's resampling method (default nearest, as in Earth Engine).
    gzip_level, gzip_engine
        Gzip engine and level when compressing: ``"isal"`` (ISA-L's igzip, levels 0-3, default 1) where
        the build found libisal, and then the default; else ``"zlib-ng"`` (levels 0-9, default 6). The
        records are the same whichever compresses them.
    threads
        Threads for encoding (default: all cores).
    progress
        Called as ``progress(patches_done, total_patches)`` after each strip.
    storage_options
        fsspec options (credentials, endpoint) for a URL ``prefix``.
    client
        A ``dask.distributed.Client``: run the export on its workers, each reading its own rows of
        patches and writing its own shards (see :mod:`geotfrecord.dask_export`); same record stream.

    Returns
    -------
    ExportResult

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> out = tempfile.mkdtemp() + "/scene"
    >>> image = np.random.rand(3, 100, 130).astype(np.float32)
    >>> result = export_image(image, out, patch_dimensions=(32, 32), kernel_size=(8, 8))
    >>> result.total_patches, result.patches_written, [os.path.basename(f) for f in result.files]
    (12, 12, ['scene-00000.tfrecord.gz'])
    """
    options = _resolve_options(
        format_options,
        {
            "patch_dimensions": patch_dimensions,
            "kernel_size": kernel_size,
            "compressed": compressed,
            "max_file_size": max_file_size,
            "default_value": default_value,
            "tensor_depths": tensor_depths,
            "sequence_data": sequence_data,
            "collapse_bands": collapse_bands,
            "masked_threshold": masked_threshold,
            "integer_encoding": integer_encoding,
        },
    )
    gzip = gzip_settings(gzip_engine, gzip_level)
    describe, grid = source_keywords(
        band_names=band_names, mask=mask, nodata=nodata, crs=crs, transform=transform, region=region,
        region_crs=region_crs, scale=scale, crs_transform=crs_transform, dimensions=dimensions,
        resampling=resampling, max_pixels=max_pixels,
    )  # fmt: skip
    threads = threads or default_threads()
    if client is not None:
        from .dask_export import export_image_distributed

        return export_image_distributed(
            client, image, os.fspath(prefix), options, bands, describe, grid, gzip, threads, progress,
            storage_options=storage_options,
        )  # fmt: skip
    source = open_export_source(image, describe, grid)
    try:
        return _export(source, os.fspath(prefix), options, bands, gzip, threads, progress, storage_options)
    finally:
        if source is not image:
            source.close()


def source_keywords(**keywords: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split an export's image keywords into those that describe the image (``band_names``, ``mask``,
    ``nodata``, ``crs``, ``transform``) and those that choose the output grid (``region``, ``crs``, …)."""
    describe = {k: keywords[k] for k in ("band_names", "mask", "nodata", "crs", "transform")}
    grid_keys = ("region", "region_crs", "crs", "scale", "crs_transform", "dimensions", "resampling", "max_pixels")
    return describe, {k: keywords[k] for k in grid_keys}


def open_export_source(image: Any, describe: Mapping[str, Any], grid: Mapping[str, Any]) -> ImageSource:
    """The image as the export sees it: opened, georeferenced (``describe``), on the output grid
    (``grid``: Export.image's region/crs/scale/… keywords), checked against maxPixels."""
    source = open_source(image, **describe)
    try:
        keywords = {k: v for k, v in grid.items() if k not in ("resampling", "max_pixels")}
        output = resolve_grid(source, **keywords)
        check_max_pixels(output, grid.get("max_pixels"))
        return on_grid(source, output, resampling=grid.get("resampling", "nearest"))
    except BaseException:
        if source is not image:
            source.close()
        raise


def _select_bands(source: ImageSource, bands: Sequence[str] | None) -> list[int]:
    if bands is None:
        return list(range(len(source.band_names)))
    if isinstance(bands, str):
        bands = [bands]
    indices = []
    for name in bands:
        if name not in source.band_names:
            raise OptionsError("bands", f"no band named {name!r} (bands: {', '.join(source.band_names)})")
        indices.append(source.band_names.index(name))
    if not indices:
        raise OptionsError("bands", "at least one band is needed")
    return indices


@dataclass(frozen=True)
class ExportPlan:
    """Everything needed to export any run of patch rows: the same for every worker of an export."""

    options: TFRecordOptions
    bands: tuple[_BandPlan, ...]
    patches_per_row: int
    patch_rows: int
    collapsed_kind: int
    tiles_per_chunk: int

    @property
    def total_patches(self) -> int:
        return self.patches_per_row * self.patch_rows

    def shard_writer(
        self,
        name_for: Callable[[int], str],
        gzip: tuple[str, int],
        threads: int,
        storage_options: Mapping[str, Any] | None,
    ) -> ShardWriter:
        """Files numbered by ``name_for``, sharded and compressed as the options say."""
        return ShardWriter(
            name_for,
            compressed=self.options.compressed,
            max_file_size=self.options.max_file_size,
            level=gzip[1],
            gzip_engine=gzip[0],
            threads=threads,
            storage_options=storage_options,
        )


def plan_export(source: ImageSource, options: TFRecordOptions, bands: Sequence[str] | None) -> ExportPlan:
    """Check the options against the image and lay out the patch grid (before any pixel is read)."""
    plans = _plan_bands(source, _select_bands(source, bands), options)
    (pw, ph), th = options.patch_dimensions, options.tile_dimensions[1]
    per_row, rows = source.width // pw, source.height // ph
    if per_row == 0 or rows == 0:
        raise OptionsError(
            "patchDimensions",
            f"a {pw} x {ph} patch does not fit the {source.width} x {source.height} image: no patch to export",
        )
    collapsed_kind = max((p.kind for p in plans), key=[KIND_BYTES, KIND_INT64, KIND_FLOAT].index)
    bytes_per_tile_column = th * pw * sum(p.depth * (8 + source.dtypes[p.source_index].itemsize) for p in plans)
    tiles_per_chunk = max(1, min(per_row, STRIP_BUDGET // max(1, bytes_per_tile_column)))
    return ExportPlan(options, tuple(plans), per_row, rows, collapsed_kind, tiles_per_chunk)


def export_rows(
    source: ImageSource,
    plan: ExportPlan,
    rows: range,
    shards: ShardWriter,
    threads: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Encode the patches of ``rows`` (patch-row indices) into ``shards``; returns (written, dropped).

    The records depend only on the image, the plan and the rows, never on who runs them, so any split
    of the rows across workers gives the same record stream.
    """
    options = plan.options
    (pw, ph), (mx, my) = options.patch_dimensions, options.margin
    tw = options.tile_dimensions[0]
    written = dropped = 0
    for r in rows:
        for c0 in range(0, plan.patches_per_row, plan.tiles_per_chunk):
            c1 = min(plan.patches_per_row, c0 + plan.tiles_per_chunk)
            windows = source.read(
                r * ph - my, (r + 1) * ph + my, c0 * pw - mx, c1 * pw + mx, [p.source_index for p in plan.bands]
            )
            offsets = [(c - c0) * pw for c in range(c0, c1)]
            keep = _tiles_within_threshold(windows, offsets, tw, options.masked_threshold)
            kept = [o for o, k in zip(offsets, keep, strict=True) if k]
            written += len(kept)
            dropped += len(offsets) - len(kept)
            if kept:
                framed, sizes = _encode(windows, list(plan.bands), options, plan.collapsed_kind, tw, kept, threads)
                shards.append(framed, sizes)
            if progress is not None:
                progress(len(offsets))
    return written, dropped


def _remove_leftovers_of_killed_runs(prefix: str) -> None:
    """Temporaries of this prefix's shards and mixer that a killed run left behind (local folders)."""
    folder = os.path.dirname(image_shard_name(prefix, 0, compressed=False)) or "."
    remove_stale_temporaries(folder, image_shard_pattern(prefix))
    remove_stale_temporaries(folder, os.path.basename(mixer_name(prefix)))


def _remove_stale_shards(prefix: str, count: int, compressed: bool, storage_options: Mapping[str, Any] | None) -> None:
    """Shards numbered from ``count`` on, left by an earlier, longer export to the same prefix: with
    them in place, a glob of the new export's files would mix two exports."""
    import fsspec

    for suffix_compressed in (compressed, not compressed):
        index = count if suffix_compressed == compressed else 0
        while True:
            path = image_shard_name(prefix, index, compressed=suffix_compressed)
            fs, local = fsspec.core.url_to_fs(path, **(storage_options or {}))
            if not fs.exists(local):
                break
            fs.rm(local)
            index += 1


def write_mixer(
    prefix: str, source: ImageSource, plan: ExportPlan, storage_options: Mapping[str, Any] | None = None
) -> str | None:
    """The mixer, written last; none when maskedThreshold is not 1 (as Earth Engine does)."""
    if plan.options.masked_threshold != 1.0:
        return None
    path = mixer_name(prefix)
    mixer = Mixer(source.crs, source.transform, plan.options.patch_dimensions, plan.patches_per_row, plan.total_patches)
    mixer.write(path, dict(storage_options or {}))
    return path


def _export(
    source: ImageSource,
    prefix: str,
    options: TFRecordOptions,
    bands: Sequence[str] | None,
    gzip: tuple[str, int],
    threads: int,
    progress: ProgressCallback | None,
    storage_options: Mapping[str, Any] | None = None,
) -> ExportResult:
    plan = plan_export(source, options, bands)
    _remove_leftovers_of_killed_runs(prefix)
    shards = plan.shard_writer(
        lambda i: image_shard_name(prefix, i, compressed=options.compressed), gzip, threads, storage_options
    )
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, plan.total_patches)

    try:
        written, dropped = export_rows(source, plan, range(plan.patch_rows), shards, threads, advance)
        files = shards.close()
    except BaseException:
        shards.abort()
        raise
    _remove_stale_shards(prefix, len(files), options.compressed, storage_options)
    mixer_path = write_mixer(prefix, source, plan, storage_options)
    return ExportResult(
        tuple(files), mixer_path, written, dropped, plan.total_patches, shards.records, shards.bytes, options
    )


def _tiles_within_threshold(
    windows: list[BandWindow], offsets: list[int], tile_width: int, threshold: float
) -> list[bool]:
    """Whether each tile's fraction of masked pixels (masked in any band) is at most ``threshold``."""
    if threshold >= 1.0:
        return [True] * len(offsets)
    masked = np.zeros(windows[0].mask.shape, dtype=bool)
    for w in windows:
        masked |= w.mask
    per_column = np.concatenate([[0], np.cumsum(masked.sum(axis=0, dtype=np.int64))])
    pixels = masked.shape[0] * tile_width
    return [(per_column[o + tile_width] - per_column[o]) / pixels <= threshold for o in offsets]


def _sequence_lengths(window: BandWindow, plan: _BandPlan) -> np.ndarray | None:
    """Valid elements per pixel of a variable-length array band; masked pixels keep the full depth
    (of default values), like masked pixels everywhere else."""
    if not plan.variable_length or window.lengths is None:
        return None
    return np.where(window.mask, plan.depth, np.minimum(window.lengths, plan.depth)).astype(np.int32)


def _encode(
    windows: list[BandWindow],
    plans: list[_BandPlan],
    options: TFRecordOptions,
    collapsed_kind: int,
    tile_width: int,
    offsets: list[int],
    threads: int,
) -> tuple[np.ndarray, np.ndarray]:
    if options.collapse_bands:
        stacked = np.concatenate([_band_values(w, p, collapsed_kind) for w, p in zip(windows, plans, strict=True)])
        name = plans[0].name
        if options.sequence_data:
            return _core.encode_pixel_sequences(
                [], [(name, collapsed_kind, stacked, None)], tile_width, offsets, threads
            )
        return _core.encode_tile_examples([(name, collapsed_kind, stacked)], tile_width, offsets, threads)
    if options.sequence_data:
        context = [
            (p.name, p.kind, _band_values(w, p, p.kind)) for w, p in zip(windows, plans, strict=True) if not p.is_array
        ]
        sequence = [
            (p.name, p.kind, _band_values(w, p, p.kind), _sequence_lengths(w, p))
            for w, p in zip(windows, plans, strict=True)
            if p.is_array
        ]
        return _core.encode_pixel_sequences(context, sequence, tile_width, offsets, threads)
    strip = [(p.name, p.kind, _band_values(w, p, p.kind)) for w, p in zip(windows, plans, strict=True)]
    return _core.encode_tile_examples(strip, tile_width, offsets, threads)
