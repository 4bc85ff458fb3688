"""A small, deliberately plain numpy model of Earth Engine's image export to TFRecord.

Written from the documented semantics only (the "TFRecord and Earth Engine" guide and
/work/shared/EE-FACTS.md), with simple padding and pixel loops; it imports nothing from geotfrecord.
It says *what* the records must contain, not how they are encoded:

- patches of (pw, ph) tile the image row-major from the top-left; patches crossing the right or
  bottom edge are dropped;
- each patch is buffered by kernel // 2 on each side (x: columns, y: rows); buffer pixels come from
  the neighbouring image, and outside the image they are masked;
- a masked pixel (per band) takes the band's default value: for integer bands defaultValue with its
  fractional part dropped, clamped to the band type's range;
- array bands: tensorDepths truncates or pads with the default; elements at or beyond a pixel's
  length are the default;
- ``maskedThreshold`` r: a tile (buffer included) whose fraction of pixels masked in any band
  exceeds r is dropped;
- Examples: one per tile, one feature per band, (depth, rows, cols) row-major;
  collapseBands: one feature named after the first band, bands concatenated along depth, promoted
  bytes -> int64 -> float;
- SequenceExamples: one per pixel of each tile (row-major in the tile, tiles row-major); scalar bands
  in the context, array bands as feature lists of one value per element (the pixel's valid length
  when the band has no tensorDepths entry; a masked pixel keeps the full depth, all default).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

# The mixer Earth Engine wrote for a real export (EE-FACTS.md), byte for byte.
EE_MIXER = """{
  "projection": {
    "crs": "EPSG:4326",
    "affine": {
      "doubleMatrix": [8.983152841195215E-4, 0.0, 13.599595086285436, 0.0, -8.983152841195215E-4, 45.40175277468474]
    }
  },
  "patchDimensions": [256, 256],
  "patchesPerRow": 5,
  "totalPatches": 10
}"""

FLOAT = "float"
INT64 = "int64"
BYTES = "bytes"
OUTPUT_DTYPES = {FLOAT: np.float32, INT64: np.int64, BYTES: np.uint8}


@dataclass
class Band:
    """One band of the reference image: ``values`` (H, W) for a scalar band, (D, H, W) for an array band;
    ``mask`` (H, W) True where masked; ``lengths`` (H, W) valid elements of an array band (None: all)."""

    name: str
    values: np.ndarray
    mask: np.ndarray | None = None
    lengths: np.ndarray | None = None

    @property
    def is_array(self) -> bool:
        return self.values.ndim == 3

    @property
    def height(self) -> int:
        return self.values.shape[-2]

    @property
    def width(self) -> int:
        return self.values.shape[-1]


@dataclass
class Expected:
    """The records an export must produce, in order, and the patch counts."""

    records: list = field(default_factory=list)
    total_patches: int = 0
    dropped: int = 0
    patches_per_row: int = 0


def band_default(dtype: np.dtype, default: float) -> float | int:
    """defaultValue as a band of ``dtype`` takes it."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return float(np.float32(default))
    lo, hi = int(np.iinfo(dtype).min), int(np.iinfo(dtype).max)
    return min(max(math.trunc(default), lo), hi)


def output_kind(dtype: np.dtype, native: bool, sequence: bool) -> str:
    dtype = np.dtype(dtype)
    if not native or dtype.kind == "f":
        return FLOAT
    if dtype == np.uint8 and not sequence:
        return BYTES
    return INT64


def _tile_pixels(band: Band, row0: int, col0: int, th: int, tw: int, depth: int | None, default: float | int):
    """(values[depth][y][x], valid_length[y][x], masked[y][x]) of one tile, by plain loops.

    ``row0``/``col0`` may be negative or the tile may reach beyond the image: those pixels are masked.
    """
    src_depth = band.values.shape[0] if band.is_array else 1
    out_depth = depth if depth is not None else src_depth
    values = [[[default] * tw for _ in range(th)] for _ in range(out_depth)]
    lengths = [[out_depth] * tw for _ in range(th)]
    masked = [[True] * tw for _ in range(th)]
    for y in range(th):
        for x in range(tw):
            r, c = row0 + y, col0 + x
            if not (0 <= r < band.height and 0 <= c < band.width):
                continue  # outside the image: masked, default values, full depth
            if band.mask is not None and band.mask[r, c]:
                continue
            masked[y][x] = False
            if not band.is_array:
                values[0][y][x] = band.values[r, c].item()
                continue
            length = src_depth if band.lengths is None else int(band.lengths[r, c])
            length = min(length, src_depth, out_depth)
            lengths[y][x] = length
            for d in range(length):
                values[d][y][x] = band.values[d, r, c].item()
    return values, lengths, masked


def reference_export(
    bands: list[Band],
    *,
    patch: tuple[int, int],
    kernel: tuple[int, int] = (1, 1),
    default: float = 0.0,
    tensor_depths: dict[str, int] | None = None,
    sequence: bool = False,
    collapse: bool = False,
    threshold: float = 1.0,
    native: bool = False,
) -> Expected:
    """The expected records.

    Example records are ``{name: array}`` with arrays (rows, cols) for scalar bands and
    (depth, rows, cols) for array bands and collapsed features, in the output dtype (float32, int64,
    or uint8 for bytes). SequenceExample records are ``(context, feature_lists)`` with
    ``context[name]`` a length-1 array and ``feature_lists[name]`` a 1-D array, one value per step.
    """
    tensor_depths = dict(tensor_depths or {})
    pw, ph = patch
    mx, my = kernel[0] // 2, kernel[1] // 2
    tw, th = pw + 2 * mx, ph + 2 * my
    height, width = bands[0].height, bands[0].width
    per_row, rows = width // pw, height // ph
    expected = Expected(total_patches=per_row * rows, patches_per_row=per_row)
    kinds = [output_kind(b.values.dtype, native, sequence) for b in bands]
    order = [BYTES, INT64, FLOAT]
    collapsed_kind = max(kinds, key=order.index)

    for tr in range(rows):
        for tc in range(per_row):
            row0, col0 = tr * ph - my, tc * pw - mx
            tiles = []
            any_masked = [[False] * tw for _ in range(th)]
            for band in bands:
                depth = tensor_depths.get(band.name) if band.is_array else None
                dflt = band_default(band.values.dtype, default)
                values, lengths, masked = _tile_pixels(band, row0, col0, th, tw, depth, dflt)
                for y in range(th):
                    for x in range(tw):
                        any_masked[y][x] = any_masked[y][x] or masked[y][x]
                tiles.append((band, values, lengths, masked))
            n_masked = sum(sum(row) for row in any_masked)
            if threshold < 1.0 and n_masked / (th * tw) > threshold:
                expected.dropped += 1
                continue
            if collapse:
                dtype = OUTPUT_DTYPES[collapsed_kind]
                stacked = np.concatenate([np.array(v, dtype=dtype) for _, v, _, _ in tiles])
                name = bands[0].name
                if sequence:
                    for y in range(th):
                        for x in range(tw):
                            expected.records.append(({}, {name: stacked[:, y, x]}))
                else:
                    expected.records.append({name: stacked})
                continue
            if not sequence:
                record = {}
                for (band, values, _, _), kind in zip(tiles, kinds, strict=True):
                    array = np.array(values, dtype=OUTPUT_DTYPES[kind])
                    record[band.name] = array if band.is_array else array[0]
                expected.records.append(record)
                continue
            for y in range(th):
                for x in range(tw):
                    context, lists = {}, {}
                    for (band, values, lengths, masked), kind in zip(tiles, kinds, strict=True):
                        dtype = OUTPUT_DTYPES[kind]
                        if not band.is_array:
                            context[band.name] = np.array([values[0][y][x]], dtype=dtype)
                        elif band.name in tensor_depths or masked[y][x]:
                            lists[band.name] = np.array([v[y][x] for v in values], dtype=dtype)
                        else:
                            n = lengths[y][x]
                            lists[band.name] = np.array([v[y][x] for v in values[:n]], dtype=dtype)
                    expected.records.append((context, lists))
    return expected


def shard_sizes(record_sizes: list[int], max_file_size: int) -> list[int]:
    """How many records each file holds: a new file when the next framed record (record + 16 bytes)
    would push the current one past ``max_file_size``; an oversized record gets a file of its own."""
    counts: list[int] = []
    current = 0
    for size in record_sizes:
        framed = size + 16
        if not counts or (current > 0 and current + framed > max_file_size):
            counts.append(0)
            current = 0
        counts[-1] += 1
        current += framed
    return counts
