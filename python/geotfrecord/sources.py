"""Images as sources of windows: numpy arrays, GeoTIFFs/COGs (rasterio) and xarray objects behind
one small interface, so the exporter reads strip by strip and never holds the whole image.

A window may reach outside the image (kernel buffers at the edges): those pixels come back masked.

Examples
--------
>>> import numpy as np
>>> src = open_source(np.arange(12, dtype=np.float32).reshape(1, 3, 4))
>>> w = src.read(-1, 2, 0, 2)
>>> w[0].values[0].tolist(), w[0].mask.tolist()
([[0.0, 0.0], [0.0, 1.0], [4.0, 5.0]], [[True, True], [False, False], [False, False]])
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import OptionsError

__all__ = ["ArrayBand", "BandWindow", "ImageSource", "open_source"]

Affine6 = tuple[float, float, float, float, float, float]
IDENTITY: Affine6 = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


@dataclass(frozen=True)
class ArrayBand:
    """A band with a vector per pixel: ``values`` is (depth, rows, cols); ``lengths`` (rows, cols)
    says how many of each pixel's values are valid (all of them when omitted).

    Examples
    --------
    >>> import numpy as np
    >>> band = ArrayBand(np.zeros((3, 2, 2)), lengths=np.array([[3, 1], [0, 2]]))
    >>> band.depth
    3
    """

    values: np.ndarray
    lengths: np.ndarray | None = None

    def __post_init__(self) -> None:
        values = np.asarray(self.values)
        if values.ndim != 3:
            raise ValueError(f"an ArrayBand's values must be (depth, rows, cols), got shape {values.shape}")
        object.__setattr__(self, "values", values)
        if self.lengths is not None:
            lengths = np.asarray(self.lengths)
            if lengths.shape != values.shape[1:]:
                raise ValueError(f"ArrayBand lengths must be {values.shape[1:]}, got {lengths.shape}")
            object.__setattr__(self, "lengths", lengths.astype(np.int32))

    @property
    def depth(self) -> int:
        return int(self.values.shape[0])


@dataclass
class BandWindow:
    """One band's pixels in a window: ``values`` (depth, rows, cols), ``mask`` (rows, cols) with True
    where masked, ``lengths`` (rows, cols) of valid array elements for array bands, else None."""

    values: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray | None = None


class ImageSource:
    """What the exporter needs of an image. Subclasses implement :meth:`_read` for windows inside it."""

    band_names: list[str]
    dtypes: list[np.dtype]
    depths: list[int | None]  # None for a scalar band, the array depth for an array band
    height: int
    width: int
    crs: str | None
    transform: Affine6

    def read(self, row0: int, row1: int, col0: int, col1: int, bands: Sequence[int] | None = None) -> list[BandWindow]:
        """Pixels of rows [row0, row1) and columns [col0, col1), which may reach outside the image."""
        bands = list(range(len(self.band_names))) if bands is None else list(bands)
        h, w = row1 - row0, col1 - col0
        r0, r1 = max(row0, 0), min(row1, self.height)
        c0, c1 = max(col0, 0), min(col1, self.width)
        inside = self._read(r0, r1, c0, c1, bands) if r0 < r1 and c0 < c1 else None
        if inside is not None and (r0, r1, c0, c1) == (row0, row1, col0, col1):
            return inside
        out = []
        for k, b in enumerate(bands):
            depth = self.depths[b] or 1
            values = np.zeros((depth, h, w), dtype=self.dtypes[b])
            mask = np.ones((h, w), dtype=bool)
            lengths = None if self.depths[b] is None else np.zeros((h, w), dtype=np.int32)
            if inside is not None:
                sl = (slice(r0 - row0, r1 - row0), slice(c0 - col0, c1 - col0))
                values[(slice(None), *sl)] = inside[k].values
                mask[sl] = inside[k].mask
                if lengths is not None:
                    lengths[sl] = inside[k].lengths
            out.append(BandWindow(values, mask, lengths))
        return out

    def _read(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> list[BandWindow]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the underlying dataset, if any."""


def _crs_text(crs: Any) -> str | None:
    if crs is None:
        return None
    if isinstance(crs, str):
        return crs
    epsg = getattr(crs, "to_epsg", lambda: None)()
    if epsg:
        return f"EPSG:{epsg}"
    to_string = getattr(crs, "to_string", None)
    return to_string() if callable(to_string) else str(crs)


def _affine6(transform: Any) -> Affine6:
    if transform is None:
        return IDENTITY
    values = tuple(float(v) for v in tuple(transform)[:6])
    if len(values) != 6:
        raise OptionsError("transform", f"must have 6 numbers (a, b, c, d, e, f), got {transform!r}")
    return values  # type: ignore[return-value]


class ArraySource(ImageSource):
    """Bands held in memory (numpy, or anything numpy can view)."""

    def __init__(
        self,
        bands: list[np.ndarray | ArrayBand],
        names: list[str],
        *,
        mask: np.ndarray | None,
        nodata: float | None,
        crs: Any,
        transform: Any,
    ) -> None:
        shapes = {(b.values.shape[1:] if isinstance(b, ArrayBand) else np.shape(b)) for b in bands}
        if len(shapes) != 1:
            raise OptionsError("image", f"all bands must have the same rows and columns, got {sorted(shapes)}")
        (self.height, self.width) = shapes.pop()
        self._bands = bands
        self.band_names = names
        self.dtypes = [np.dtype((b.values if isinstance(b, ArrayBand) else b).dtype) for b in bands]
        self.depths = [b.depth if isinstance(b, ArrayBand) else None for b in bands]
        self.crs = _crs_text(crs)
        self.transform = _affine6(transform)
        self._nodata = nodata
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape not in ((self.height, self.width), (len(bands), self.height, self.width)):
                raise OptionsError(
                    "mask",
                    f"must be (rows, cols) or (bands, rows, cols) = {self.height, self.width}, got {mask.shape}",
                )
        self._mask = mask

    def _read(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> list[BandWindow]:
        out = []
        for b in bands:
            band = self._bands[b]
            lengths = None
            if isinstance(band, ArrayBand):
                values = np.asarray(band.values[:, r0:r1, c0:c1])
                lengths = (
                    np.full((r1 - r0, c1 - c0), band.depth, np.int32)
                    if band.lengths is None
                    else band.lengths[r0:r1, c0:c1]
                )
            else:
                values = band[r0:r1, c0:c1][None]
            mask = np.zeros((r1 - r0, c1 - c0), dtype=bool)
            if isinstance(values, np.ma.MaskedArray):
                mask |= np.ma.getmaskarray(values).any(axis=0)
                values = values.data
            values = np.asarray(values)
            if self._mask is not None:
                mask |= self._mask[r0:r1, c0:c1] if self._mask.ndim == 2 else self._mask[b, r0:r1, c0:c1]
            if self._nodata is not None:
                hit = np.isnan(values) if np.isnan(self._nodata) else values == self._nodata
                mask |= hit.all(axis=0)
            out.append(BandWindow(np.ascontiguousarray(values), mask, lengths))
        return out


class RasterioSource(ImageSource):
    """A GeoTIFF / COG (any GDAL raster) read window by window with rasterio."""

    def __init__(self, dataset: Any, *, owned: bool) -> None:
        import rasterio

        self._ds = dataset
        self._owned = owned
        # GDAL's block cache defaults to 5% of RAM, which alone would make memory grow with the image.
        # Strips are read top to bottom, so about two rows of blocks is all the cache needs to hold.
        block_rows = max(h for h, _ in dataset.block_shapes) if dataset.count else 256
        row_bytes = dataset.width * block_rows * sum(np.dtype(d).itemsize for d in dataset.dtypes)
        cache = int(min(max(2 * row_bytes, 32 << 20), 256 << 20))
        self._env = rasterio.Env(GDAL_CACHEMAX=cache)
        self._env.__enter__()
        self.height, self.width = dataset.height, dataset.width
        self.band_names = [d or f"b{i + 1}" for i, d in enumerate(dataset.descriptions)]
        self.dtypes = [np.dtype(d) for d in dataset.dtypes]
        self.depths = [None] * dataset.count
        self.crs = _crs_text(dataset.crs)
        self.transform = _affine6(dataset.transform)

    def _read(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> list[BandWindow]:
        from rasterio.windows import Window

        window = Window(c0, r0, c1 - c0, r1 - r0)
        data = self._ds.read([b + 1 for b in bands], window=window, masked=True)
        masks = np.ma.getmaskarray(data)
        return [BandWindow(np.ascontiguousarray(data.data[k][None]), masks[k]) for k in range(len(bands))]

    def close(self) -> None:
        if self._owned:
            self._ds.close()
        if self._env is not None:
            self._env.__exit__(None, None, None)
            self._env = None


class XarraySource(ImageSource):
    """An xarray DataArray (band, y, x) / (y, x) or Dataset (one band per variable), georeferenced the
    rioxarray way. Values equal to the nodata value, and NaN in floating bands, are masked."""

    def __init__(self, obj: Any) -> None:
        import xarray as xr

        if isinstance(obj, xr.Dataset):
            arrays = [obj[name] for name in obj.data_vars]
            names = [str(name) for name in obj.data_vars]
            ref = arrays[0]
        else:
            ref = obj
            if obj.ndim == 2:
                arrays, names = [obj], [str(obj.name) if obj.name is not None else "b1"]
            elif obj.ndim == 3:
                band_dim = obj.dims[0]
                arrays = [obj.isel({band_dim: i}) for i in range(obj.sizes[band_dim])]
                names = self._band_names(obj, band_dim)
            else:
                raise OptionsError("image", f"a DataArray must be (band, y, x) or (y, x), got dims {obj.dims}")
        self._arrays = arrays
        self.band_names = names
        self.dtypes = [np.dtype(a.dtype) for a in arrays]
        self.depths = [None if a.ndim == 2 else int(a.shape[0]) for a in arrays]
        self.height, self.width = int(ref.shape[-2]), int(ref.shape[-1])
        rio = getattr(ref, "rio", None)
        self.crs = _crs_text(rio.crs) if rio is not None else None
        self.transform = _affine6(rio.transform()) if rio is not None else IDENTITY
        self._nodata = [getattr(a, "rio", None) and a.rio.nodata for a in arrays]

    @staticmethod
    def _band_names(obj: Any, band_dim: str) -> list[str]:
        long_name = obj.attrs.get("long_name")
        count = obj.sizes[band_dim]
        if isinstance(long_name, (list, tuple)) and len(long_name) == count:
            return [str(n) for n in long_name]
        if band_dim in obj.coords:
            labels = obj.coords[band_dim].values.tolist()
            return [label if isinstance(label, str) else f"b{label}" for label in labels]
        return [f"b{i + 1}" for i in range(count)]

    def _read(self, r0: int, r1: int, c0: int, c1: int, bands: list[int]) -> list[BandWindow]:
        out = []
        for b in bands:
            arr = self._arrays[b]
            values = np.asarray(arr[..., r0:r1, c0:c1].values)
            values = values[None] if values.ndim == 2 else values
            mask = np.zeros(values.shape[1:], dtype=bool)
            if values.dtype.kind == "f":
                mask |= np.isnan(values).all(axis=0)
            nodata = self._nodata[b]
            if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
                mask |= (values == nodata).all(axis=0)
            lengths = None if self.depths[b] is None else np.full(mask.shape, self.depths[b], np.int32)
            out.append(BandWindow(np.ascontiguousarray(values), mask, lengths))
        return out


def open_source(
    image: Any,
    *,
    band_names: Sequence[str] | None = None,
    mask: Any = None,
    nodata: float | None = None,
    crs: Any = None,
    transform: Any = None,
) -> ImageSource:
    """Wrap ``image`` as an :class:`ImageSource`.

    ``image`` may be a numpy array (bands, rows, cols) or (rows, cols), a numpy masked array, a
    mapping of band name to array / :class:`ArrayBand`, a path or URL of a raster (opened with
    rasterio), an open rasterio dataset, or an xarray DataArray/Dataset. ``crs`` and ``transform``
    georeference arrays (and files without georeferencing); ``mask`` (True = masked) and ``nodata`` mask pixels
    of arrays; ``band_names`` names the bands of an array.
    """
    if isinstance(image, ImageSource):
        return image
    if isinstance(image, (str, os.PathLike)):
        import rasterio

        return _override(RasterioSource(rasterio.open(os.fspath(image)), owned=True), crs, transform)
    module = type(image).__module__
    if module.startswith("rasterio"):
        return _override(RasterioSource(image, owned=False), crs, transform)
    if module.startswith("xarray"):
        return _override(XarraySource(image), crs, transform)
    if isinstance(image, Mapping):
        names = [str(k) for k in image]
        bands = [v if isinstance(v, ArrayBand) else _array_band(k, v) for k, v in image.items()]
    else:
        array = image if isinstance(image, np.ma.MaskedArray) else np.asarray(image)
        if array.ndim == 2:
            array = array[None]
        if array.ndim != 3:
            raise OptionsError(
                "image", f"an array must be (bands, rows, cols) or (rows, cols), got shape {array.shape}"
            )
        bands = list(array)
        names = [f"b{i + 1}" for i in range(len(bands))]
    if band_names is not None:
        if len(band_names) != len(bands):
            raise OptionsError("band_names", f"{len(band_names)} names for {len(bands)} bands")
        names = [str(n) for n in band_names]
    if len(set(names)) != len(names):
        raise OptionsError("band_names", f"band names must be unique, got {names}")
    return ArraySource(bands, names, mask=mask, nodata=nodata, crs=crs, transform=transform)


def _array_band(name: Any, value: Any) -> np.ndarray | ArrayBand:
    array = value if isinstance(value, np.ma.MaskedArray) else np.asarray(value)
    if array.ndim == 3:
        return ArrayBand(array)
    if array.ndim != 2:
        raise OptionsError(f"image.{name}", f"a band must be (rows, cols) or (depth, rows, cols), got {array.shape}")
    return array


def _override(source: ImageSource, crs: Any, transform: Any) -> ImageSource:
    """Georeference a source that has no georeferencing of its own; a georeferenced one keeps its own
    (``crs`` then names the output CRS, handled by the grid, and ``transform`` is an error)."""
    if source.crs is None and source.transform == IDENTITY:
        if crs is not None:
            source.crs = _crs_text(crs)
        if transform is not None:
            source.transform = _affine6(transform)
    elif transform is not None:
        raise OptionsError(
            "transform", "the image is georeferenced already; choose the output grid with crs_transform or scale"
        )
    return source
