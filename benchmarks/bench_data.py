"""Realistic synthetic rasters for the benchmarks: smooth fields with sensor-like noise, float32.

Pure noise would be unrealistically incompressible and constant tiles unrealistically compressible;
a few low-frequency waves around a reflectance-like mean plus small Gaussian noise sit in between,
like the optical bands of an Earth Engine export (gzip level 6 keeps roughly 85-90% of the bytes).
"""

from __future__ import annotations

import numpy as np

__all__ = ["BAND_NAMES", "smooth_field", "tile_bands"]

#: Band names of the benchmark tiles (sorted, so protobuf's deterministic map order is the same).
BAND_NAMES = ("B2", "B3", "B4", "B8")


def smooth_field(rows: int, cols: int, rng: np.random.Generator, *, terms: int = 6, noise: float = 0.004) -> np.ndarray:
    """A ``(rows, cols)`` float32 field in [0, 1]: a sum of random low-frequency waves plus noise."""
    y = np.linspace(0.0, 1.0, rows)[:, None]
    x = np.linspace(0.0, 1.0, cols)[None, :]
    field = np.full((rows, cols), rng.uniform(0.1, 0.3))
    for _ in range(terms):
        ky, kx = rng.uniform(0.5, 6.0, 2)
        phase = rng.uniform(0.0, 2.0 * np.pi)
        field += rng.uniform(0.01, 0.06) * np.sin(2.0 * np.pi * (ky * y + kx * x) + phase)
    field += rng.normal(0.0, noise, field.shape)
    return np.clip(field, 0.0, 1.0).astype(np.float32)


def tile_bands(values_per_band: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Four bands of ``values_per_band`` float32 values each, as an Earth Engine patch would give.

    A perfect square is shaped ``(side, side)``; any other count is the first values of the next
    larger square field, flattened.
    """
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(values_per_band)))
    bands = {}
    for name in BAND_NAMES:
        field = smooth_field(side, side, rng)
        bands[name] = field if side * side == values_per_band else field.reshape(-1)[:values_per_band].copy()
    return bands
