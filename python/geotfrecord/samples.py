"""Built-in sample data: small synthetic, georeferenced images for the demo, tests and benchmarks.

Examples
--------
>>> image = synthetic_image(4, 64, 96, seed=1)
>>> image.shape, image.dtype
((4, 64, 96), dtype('float32'))
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

__all__ = ["SAMPLE_BANDS", "SAMPLE_CRS", "sample_transform", "synthetic_image", "write_sample_geotiff"]

#: Band names of the sample image (Sentinel-2 style).
SAMPLE_BANDS = ("B2", "B3", "B4", "B8")
#: The sample image lies in UTM zone 33N, 10 m pixels, around Rome.
SAMPLE_CRS = "EPSG:32633"


def sample_transform(pixel_size: float = 10.0) -> tuple[float, float, float, float, float, float]:
    """North-up affine (a, b, c, d, e, f) of the sample grid."""
    return (pixel_size, 0.0, 280_000.0, 0.0, -pixel_size, 4_650_000.0)


def synthetic_image(bands: int, rows: int, cols: int, *, dtype: Any = np.float32, seed: int = 0) -> np.ndarray:
    """Smooth fields plus noise, like real imagery (compresses like it too), as (bands, rows, cols).

    Integer dtypes get reflectance-like values (0 to 10000).
    """
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, rows, dtype=np.float32)[:, None]
    x = np.linspace(0.0, 1.0, cols, dtype=np.float32)[None, :]
    out = np.empty((bands, rows, cols), dtype=np.float32)
    for b in range(bands):
        out[b] = np.sin(6.0 * x + b) * np.cos(4.0 * y - b) + 0.05 * rng.standard_normal((rows, cols), np.float32)
    if np.issubdtype(np.dtype(dtype), np.integer):
        return np.clip((out + 1.2) * 4000.0, 0, 10_000).astype(dtype)
    return out.astype(dtype)


def write_sample_geotiff(
    path: str | os.PathLike[str],
    *,
    rows: int = 512,
    cols: int = 640,
    dtype: Any = np.float32,
    nodata: float | None = None,
    cloud_optimized: bool = False,
    block: int = 256,
    seed: int = 0,
) -> str:
    """Write a synthetic 4-band georeferenced GeoTIFF (band descriptions B2, B3, B4, B8) and return its path.

    Written block row by block row, so that large samples (benchmarks) never sit in memory whole.
    """
    import rasterio
    from rasterio.transform import Affine
    from rasterio.windows import Window

    profile = {
        "driver": "GTiff",
        "width": cols,
        "height": rows,
        "count": len(SAMPLE_BANDS),
        "dtype": np.dtype(dtype).name,
        "crs": SAMPLE_CRS,
        "transform": Affine(*sample_transform()),
        "tiled": True,
        "blockxsize": block,
        "blockysize": block,
        "compress": "deflate",
        "nodata": nodata,
        "BIGTIFF": "IF_SAFER",
    }
    with rasterio.open(os.fspath(path), "w", **profile) as dst:
        for i, name in enumerate(SAMPLE_BANDS, start=1):
            dst.set_band_description(i, name)
        for r0 in range(0, rows, block):
            h = min(block, rows - r0)
            strip = synthetic_image(len(SAMPLE_BANDS), h, cols, dtype=dtype, seed=seed + r0)
            dst.write(strip, window=Window(0, r0, cols, h))
        if cloud_optimized:
            dst.build_overviews([2, 4, 8], rasterio.enums.Resampling.average)
    return os.fspath(path)
