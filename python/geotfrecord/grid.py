"""The output grid of an export, chosen the way ``Export.image`` chooses it: ``region``, ``crs``,
``scale``, ``crsTransform``, ``dimensions`` and ``maxPixels``; and the source that reads an image
on that grid, window by window (cropped, or warped by GDAL through a ``WarpedVRT``).

Rules, in order of precedence:

- ``crs_transform`` (the six numbers of an affine) fixes the pixel grid: the export covers the region
  (or ``dimensions`` pixels from the transform's origin, or the image) snapped outward to whole
  pixels of that grid, so the output transform is ``crs_transform`` shifted by whole pixels — exactly
  ``crs_transform`` when the region starts on its origin.
- ``scale`` (metres per pixel; converted to degrees at the equator for a geographic ``crs``, as Earth
  Engine does) gives a north-up grid anchored at the CRS origin, snapped outward the same way.
- ``dimensions`` (``"WxH"``, ``(w, h)`` or the longer side) stretches the region's bounds over that
  many pixels.
- ``crs`` alone reprojects at GDAL's suggested resolution.
- none of them: the image's own grid, cropped to the region's pixels.

A region is a bounding box ``[west, south, east, north]``, a GeoJSON geometry or Feature (dict or
file), or a shapely geometry, in ``region_crs`` (default EPSG:4326, as GeoJSON). Pixels whose
centre lies outside it are masked, so ``maskedThreshold`` and ``defaultValue`` apply to them.

Examples
--------
>>> import numpy as np
>>> from geotfrecord.sources import open_source
>>> src = open_source(np.zeros((1, 100, 100), np.float32), crs="EPSG:32633",
...                   transform=(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0))
>>> g = resolve_grid(src, scale=30)
>>> (g.width, g.height, g.transform[0], g.transform[2], g.transform[5])
(34, 34, 30.0, 499980.0, 4000020.0)
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import OptionsError
from .sources import Affine6, BandWindow, ImageSource, _crs_text

__all__ = ["DEFAULT_MAX_PIXELS", "OutputGrid", "on_grid", "resolve_grid"]

#: Export.image's default maxPixels.
DEFAULT_MAX_PIXELS = 1e8
#: Metres per degree at the equator, the conversion Earth Engine applies to a scale in a geographic CRS.
METRES_PER_DEGREE = 111319.49079327357


@dataclass(frozen=True)
class OutputGrid:
    """A pixel grid: CRS, affine of its top-left corner, size; plus the region geometry to mask by."""

    crs: str | None
    transform: Affine6
    width: int
    height: int
    region: dict[str, Any] | None = None  # GeoJSON geometry in `crs`


def _region_geometry(region: Any, region_crs: Any) -> tuple[dict[str, Any], str]:
    """(GeoJSON geometry, its CRS) from a bbox, GeoJSON (dict/file/Feature/FeatureCollection) or shapely."""
    crs = region_crs or "EPSG:4326"
    if isinstance(region, (str, os.PathLike)):
        with open(region) as f:
            region = json.load(f)
    if hasattr(region, "__geo_interface__"):
        region = region.__geo_interface__
    if isinstance(region, (list, tuple)) and len(region) == 4 and all(isinstance(v, (int, float)) for v in region):
        w, s, e, n = (float(v) for v in region)
        if not (w < e and s < n):
            raise OptionsError(
                "region",
                f"a bounding box is [west, south, east, north] with west < east and south < north, got {region}",
            )
        return {"type": "Polygon", "coordinates": [[(w, s), (e, s), (e, n), (w, n), (w, s)]]}, crs
    if not isinstance(region, dict):
        raise OptionsError(
            "region", f"expected a bounding box, a GeoJSON geometry or a shapely geometry, got {region!r}"
        )
    named = region.get("crs", {}).get("properties", {}).get("name") if isinstance(region.get("crs"), dict) else None
    crs = named or crs
    kind = region.get("type")
    if kind == "Feature":
        return _region_geometry(region.get("geometry"), crs)
    if kind == "FeatureCollection":
        geometries = [f.get("geometry") for f in region.get("features", [])]
        return {"type": "GeometryCollection", "geometries": geometries}, crs
    if kind not in ("Polygon", "MultiPolygon", "GeometryCollection"):
        raise OptionsError("region", f"a region must be a polygon (or a bounding box), got a GeoJSON {kind!r}")
    return {k: v for k, v in region.items() if k != "crs"}, crs


def _dimensions(dimensions: Any, aspect: float) -> tuple[int, int]:
    if isinstance(dimensions, str):
        parts = dimensions.lower().split("x")
        if not all(p.strip().isdigit() for p in parts) or len(parts) not in (1, 2):
            raise OptionsError("dimensions", f"expected 'WIDTHxHEIGHT' or one number, got {dimensions!r}")
        dimensions = tuple(int(p) for p in parts) if len(parts) == 2 else int(parts[0])
    if isinstance(dimensions, (int, np.integer)) and not isinstance(dimensions, bool):
        side = int(dimensions)
        if side <= 0:
            raise OptionsError("dimensions", f"must be positive, got {side}")
        return (side, max(1, round(side / aspect))) if aspect >= 1 else (max(1, round(side * aspect)), side)
    if isinstance(dimensions, (list, tuple)) and len(dimensions) == 2 and all(int(v) > 0 for v in dimensions):
        return int(dimensions[0]), int(dimensions[1])
    raise OptionsError("dimensions", f"expected 'WIDTHxHEIGHT', (width, height) or one number, got {dimensions!r}")


def _source_bounds(source: ImageSource) -> tuple[float, float, float, float]:
    """(west, south, east, north) of the image, whatever the signs of its transform."""
    from rasterio.transform import Affine, array_bounds

    w, s, e, n = array_bounds(source.height, source.width, Affine(*source.transform))
    return min(w, e), min(s, n), max(w, e), max(s, n)


def shifted(transform: Affine6, cols: float, rows: float) -> Affine6:
    """The affine of the pixel grid moved by (cols, rows) pixels (affine's operators change between
    versions, so the arithmetic is written out)."""
    a, b, c, d, e, f = transform
    return (a, b, c + a * cols + b * rows, d, e, f + d * cols + e * rows)


def to_pixel(transform: Affine6, x: float, y: float) -> tuple[float, float]:
    """(col, row) of map coordinates (x, y) on the grid of `transform`."""
    a, b, c, d, e, f = transform
    det = a * e - b * d
    x, y = x - c, y - f
    return (e * x - b * y) / det, (a * y - d * x) / det


def _snap(transform: Affine6, bounds: tuple[float, float, float, float]) -> tuple[Affine6, int, int]:
    """The whole pixels of grid `transform` that cover `bounds`: (shifted transform, width, height)."""
    w, s, e, n = bounds
    cols, rows = zip(*(to_pixel(transform, *corner) for corner in ((w, s), (w, n), (e, s), (e, n))), strict=True)
    eps = 1e-9
    c0, c1 = math.floor(min(cols) + eps), math.ceil(max(cols) - eps)
    r0, r1 = math.floor(min(rows) + eps), math.ceil(max(rows) - eps)
    return shifted(transform, c0, r0), max(1, c1 - c0), max(1, r1 - r0)


def resolve_grid(
    source: ImageSource,
    *,
    region: Any = None,
    region_crs: Any = None,
    crs: Any = None,
    scale: float | None = None,
    crs_transform: Any = None,
    dimensions: Any = None,
) -> OutputGrid:
    """The grid an export with these Export.image keywords writes (see the module docstring)."""
    from rasterio.crs import CRS
    from rasterio.warp import calculate_default_transform, transform_bounds, transform_geom

    out_crs = _crs_text(crs) if crs is not None else source.crs
    if (region is not None or crs is not None or scale is not None or crs_transform is not None) and out_crs is None:
        raise OptionsError("crs", "the image has no CRS; give crs (and transform) to georeference it")
    geometry = None
    if region is not None:
        geometry, geometry_crs = _region_geometry(region, region_crs)
        if out_crs is not None and CRS.from_user_input(geometry_crs) != CRS.from_user_input(out_crs):
            geometry = transform_geom(geometry_crs, out_crs, geometry)
        from rasterio.features import bounds as geometry_bounds

        bounds = geometry_bounds(geometry)
    elif (
        source.crs is not None
        and out_crs is not None
        and CRS.from_user_input(source.crs) != CRS.from_user_input(out_crs)
    ):
        bounds = transform_bounds(source.crs, out_crs, *_source_bounds(source), densify_pts=21)
    else:
        bounds = _source_bounds(source)
    if scale is not None and (not isinstance(scale, (int, float)) or isinstance(scale, bool) or scale <= 0):
        raise OptionsError("scale", f"must be a positive number, got {scale!r}")
    if crs_transform is not None:
        values = tuple(float(v) for v in crs_transform)
        if len(values) != 6 or values[0] == 0 or values[4] == 0:
            raise OptionsError(
                "crsTransform",
                "must be six numbers [xScale, xShear, xTranslation, yShear, yScale, yTranslation], "
                f"got {crs_transform!r}",
            )
        if dimensions is not None and region is None:
            width, height = _dimensions(dimensions, 1.0)
            return OutputGrid(out_crs, values, width, height, None)  # type: ignore[arg-type]
        transform, width, height = _snap(values, bounds)  # type: ignore[arg-type]
    elif scale is not None:
        size = float(scale)
        if out_crs is not None and CRS.from_user_input(out_crs).is_geographic:
            size /= METRES_PER_DEGREE
        transform, width, height = _snap((size, 0.0, 0.0, 0.0, -size, 0.0), bounds)
    elif dimensions is not None:
        from rasterio.transform import from_bounds

        w, s, e, n = bounds
        width, height = _dimensions(dimensions, (e - w) / (n - s))
        transform = tuple(from_bounds(w, s, e, n, width, height))[:6]
    elif crs is not None and source.crs is not None and CRS.from_user_input(source.crs) != CRS.from_user_input(out_crs):
        w, s, e, n = _source_bounds(source)
        default, width, height = calculate_default_transform(
            source.crs, out_crs, source.width, source.height, w, s, e, n
        )
        transform = tuple(default)[:6]
        if region is not None:
            transform, width, height = _snap(transform, bounds)
    else:
        transform, width, height = (
            _snap(source.transform, bounds) if region is not None else (source.transform, source.width, source.height)
        )
    return OutputGrid(out_crs, transform, int(width), int(height), geometry)  # type: ignore[arg-type]


class GridSource(ImageSource):
    """An image read on another grid: a whole-pixel crop of its own grid (exact, no resampling), or a
    GDAL warp (``WarpedVRT``, streamed window by window). Pixels outside the region are masked."""

    def __init__(self, source: ImageSource, grid: OutputGrid, resampling: str = "nearest") -> None:
        self._base = source
        self._grid = grid
        self.band_names = source.band_names
        self.dtypes = source.dtypes
        self.depths = source.depths
        self.crs = grid.crs
        self.transform = grid.transform
        self.width, self.height = grid.width, grid.height
        self._offset = _whole_pixel_offset(source, grid)
        self._vrt = None
        self._memfile = None
        if self._offset is None:
            if any(d is not None for d in source.depths):
                raise OptionsError("crs", "array bands cannot be reprojected; export them on the image's own grid")
            self._vrt = self._warped(source, grid, resampling)

    def _warped(self, source: ImageSource, grid: OutputGrid, resampling: str) -> Any:
        from rasterio.enums import Resampling
        from rasterio.transform import Affine
        from rasterio.vrt import WarpedVRT

        try:
            method = Resampling[resampling]
        except KeyError:
            names = ", ".join(r.name for r in Resampling if r.value < 14)
            raise OptionsError("resampling", f"unknown resampling {resampling!r} (one of {names})") from None
        dataset = getattr(source, "_ds", None)
        if dataset is None:
            # An in-memory image: hand GDAL a MemoryFile of it (with its mask) to warp.
            from rasterio.io import MemoryFile

            windows = source.read(0, source.height, 0, source.width)
            dtype = np.result_type(*source.dtypes)
            self._memfile = MemoryFile()
            with self._memfile.open(
                driver="GTiff", width=source.width, height=source.height, count=len(windows), dtype=dtype,
                crs=source.crs, transform=Affine(*source.transform),
            ) as writer:  # fmt: skip
                writer.write(np.stack([w.values[0].astype(dtype) for w in windows]))
                valid = ~np.logical_or.reduce([w.mask for w in windows])
                writer.write_mask(valid.astype(np.uint8) * 255)
            dataset = self._memfile.open()
        # A near-zero tolerance: exact coordinate transforms, so a pixel's value does not depend on the window it is
        # read in (GDAL's default approximation can flip a nearest-neighbour pick at a window's edge).
        return WarpedVRT(
            dataset, crs=grid.crs, transform=Affine(*grid.transform), width=grid.width, height=grid.height,
            resampling=method, add_alpha=True, tolerance=1e-9,
        )  # fmt: skip

    def _read(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> list[BandWindow]:
        if self._offset is not None:
            dr, dc = self._offset
            out = self._base.read(r0 + dr, r1 + dr, c0 + dc, c1 + dc, bands)
        else:
            from rasterio.windows import Window

            window = Window(c0, r0, c1 - c0, r1 - r0)
            data = self._vrt.read([b + 1 for b in bands], window=window)
            alpha = self._vrt.read(self._vrt.count, window=window)
            mask = alpha == 0
            out = [BandWindow(np.ascontiguousarray(data[k][None]), mask.copy()) for k in range(len(bands))]
        if self._grid.region is not None:
            outside = self._outside(r0, r1, c0, c1)
            for w in out:
                w.mask |= outside
        return out

    def _outside(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        from rasterio.features import geometry_mask
        from rasterio.transform import Affine

        window_transform = Affine(*shifted(self._grid.transform, c0, r0))
        return geometry_mask([self._grid.region], out_shape=(r1 - r0, c1 - c0), transform=window_transform)

    def close(self) -> None:
        if self._vrt is not None:
            self._vrt.close()
        if self._memfile is not None:
            self._memfile.close()
        self._base.close()


def _whole_pixel_offset(source: ImageSource, grid: OutputGrid) -> tuple[int, int] | None:
    """(row, col) of the grid's origin in the source's pixels when the grid is the source's own grid
    shifted by whole pixels; None when it needs resampling."""
    from rasterio.crs import CRS

    same_crs = source.crs == grid.crs or (
        source.crs is not None
        and grid.crs is not None
        and CRS.from_user_input(source.crs) == CRS.from_user_input(grid.crs)
    )
    a, b, _, d, e, _ = source.transform
    ga, gb, gc, gd, ge, gf = grid.transform
    if not same_crs or not np.allclose((a, b, d, e), (ga, gb, gd, ge), rtol=1e-12, atol=0):
        return None
    col, row = to_pixel(source.transform, gc, gf)
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return round(row), round(col)


def on_grid(source: ImageSource, grid: OutputGrid, *, resampling: str = "nearest") -> ImageSource:
    """``source`` as seen on ``grid`` (the source itself when nothing changes)."""
    if (
        grid.region is None
        and grid.transform == source.transform
        and (grid.width, grid.height)
        == (
            source.width,
            source.height,
        )
        and grid.crs == source.crs
    ):
        return source
    return GridSource(source, grid, resampling)


def check_max_pixels(grid: OutputGrid, max_pixels: float | None) -> None:
    """Refuse an export larger than ``max_pixels`` before any work."""
    limit = DEFAULT_MAX_PIXELS if max_pixels is None else max_pixels
    pixels = grid.width * grid.height
    if pixels > limit:
        raise OptionsError(
            "maxPixels",
            f"the export would have {pixels:,} pixels ({grid.width} x {grid.height}), more than maxPixels = "
            f"{limit:,.0f}; raise max_pixels (maxPixels) or export a smaller region or a coarser scale",
        )
