"""The mixer: the JSON sidecar that georeferences the patches of an image export.

It describes the unbuffered patch grid: the CRS, the affine transform of its top-left corner, the
patch size, patches per row and the total. Written exactly as Earth Engine writes it (key order,
two-space indent, arrays on one line, doubles as Java prints them).

Examples
--------
>>> m = Mixer("EPSG:4326", (8.983152841195215e-4, 0.0, 13.5996, 0.0, -8.983152841195215e-4, 45.4018),
...           (256, 256), 5, 10)
>>> print(m.to_json())
{
  "projection": {
    "crs": "EPSG:4326",
    "affine": {
      "doubleMatrix": [8.983152841195215E-4, 0.0, 13.5996, 0.0, -8.983152841195215E-4, 45.4018]
    }
  },
  "patchDimensions": [256, 256],
  "patchesPerRow": 5,
  "totalPatches": 10
}
>>> Mixer.from_json(m.to_json()) == m
True
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._files import AtomicOutput, open_input
from .errors import OptionsError

__all__ = ["Mixer", "java_double"]


def java_double(value: float) -> str:
    """Format a double the way Java's ``Double.toString`` does (Earth Engine's mixer is written by Java).

    Shortest round-trip digits; scientific notation (``8.983152841195215E-4``) below 1e-3 and from
    1e7 up, plain decimal with at least one fractional digit otherwise.

    >>> [java_double(v) for v in (0.0, 30.0, -0.5, 1e-4, 12345678.0, 1e21)]
    ['0.0', '30.0', '-0.5', '1.0E-4', '1.2345678E7', '1.0E21']
    """
    value = float(value)
    if math.isnan(value) or math.isinf(value):
        return {True: "NaN"}.get(math.isnan(value), "Infinity" if value > 0 else "-Infinity")
    if value == 0.0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e7:
        text = repr(value)
        return text if ("." in text or "e" in text) else text + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    digits_text = "".join(map(str, digits)).rstrip("0") or "0"
    exp10 = len(digits) + exponent - 1
    mantissa = digits_text[0] + "." + (digits_text[1:] or "0")
    return ("-" if sign else "") + f"{mantissa}E{exp10}"


@dataclass(frozen=True)
class Mixer:
    """Georeferencing of an image export's patch grid.

    ``affine`` is ``(xScale, xShear, xTranslation, yShear, yScale, yTranslation)`` — rasterio's
    ``Affine`` a, b, c, d, e, f — of the grid's top-left corner; ``yScale`` may be positive (south-up).
    """

    crs: str | None
    affine: tuple[float, float, float, float, float, float]
    patch_dimensions: tuple[int, int]
    patches_per_row: int
    total_patches: int

    @property
    def patch_rows(self) -> int:
        """Rows of patches in the grid."""
        return self.total_patches // self.patches_per_row if self.patches_per_row else 0

    @property
    def width(self) -> int:
        """Pixels across the patch grid."""
        return self.patches_per_row * self.patch_dimensions[0]

    @property
    def height(self) -> int:
        """Pixels down the patch grid."""
        return self.patch_rows * self.patch_dimensions[1]

    def to_dict(self) -> dict[str, Any]:
        """The mixer as a JSON-ready dict, keys in Earth Engine's order."""
        return {
            "projection": {"crs": self.crs, "affine": {"doubleMatrix": [float(v) for v in self.affine]}},
            "patchDimensions": [int(v) for v in self.patch_dimensions],
            "patchesPerRow": int(self.patches_per_row),
            "totalPatches": int(self.total_patches),
        }

    def to_json(self) -> str:
        """The exact text Earth Engine writes."""
        matrix = ", ".join(java_double(v) for v in self.affine)
        w, h = self.patch_dimensions
        return (
            "{\n"
            '  "projection": {\n'
            f'    "crs": {json.dumps(self.crs)},\n'
            '    "affine": {\n'
            f'      "doubleMatrix": [{matrix}]\n'
            "    }\n"
            "  },\n"
            f'  "patchDimensions": [{int(w)}, {int(h)}],\n'
            f'  "patchesPerRow": {int(self.patches_per_row)},\n'
            f'  "totalPatches": {int(self.total_patches)}\n'
            "}"
        )

    def write(self, path: str | os.PathLike[str], storage_options: dict[str, Any] | None = None) -> None:
        """Write the mixer to ``path`` (local or fsspec URL), atomically."""
        with AtomicOutput(path, storage_options) as out:
            out.file.write(self.to_json().encode("utf-8"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Mixer:
        """Parse a mixer dict (ours or Earth Engine's); a missing or malformed field raises OptionsError."""
        try:
            projection = data["projection"]
            crs = projection.get("crs")
            matrix = projection["affine"]["doubleMatrix"]
            patch = data["patchDimensions"]
            per_row = data["patchesPerRow"]
            total = data["totalPatches"]
        except (KeyError, TypeError, AttributeError) as err:
            raise OptionsError(f"mixer.{_missing(data)}", "missing or malformed") from err
        if not (isinstance(matrix, list) and len(matrix) == 6):
            raise OptionsError("mixer.projection.affine.doubleMatrix", "must be a list of 6 numbers")
        if not (isinstance(patch, list) and len(patch) == 2 and all(_positive_int(v) for v in patch)):
            raise OptionsError("mixer.patchDimensions", f"must be [width, height] > 0, got {patch!r}")
        if not _positive_int(per_row):
            raise OptionsError("mixer.patchesPerRow", f"must be a positive integer, got {per_row!r}")
        if not (isinstance(total, int) and total >= 0 and total % per_row == 0):
            raise OptionsError("mixer.totalPatches", f"must be a multiple of patchesPerRow, got {total!r}")
        return cls(crs, tuple(float(v) for v in matrix), (patch[0], patch[1]), per_row, total)

    @classmethod
    def from_json(cls, text: str) -> Mixer:
        """Parse mixer JSON text."""
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError as err:
            raise OptionsError("mixer", f"not valid JSON: {err}") from err

    @classmethod
    def load(cls, source: str | os.PathLike[str] | dict[str, Any] | Mixer) -> Mixer:
        """A mixer from a path or URL, JSON text, a dict or a Mixer."""
        if isinstance(source, Mixer):
            return source
        if isinstance(source, dict):
            return cls.from_dict(source)
        text = os.fspath(source)
        if text.lstrip().startswith("{"):
            return cls.from_json(text)
        with open_input(text) as f:
            return cls.from_json(f.read().decode("utf-8"))


def _positive_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v > 0


def _missing(data: Any) -> str:
    if not isinstance(data, dict):
        return "(root)"
    for key in ("projection", "patchDimensions", "patchesPerRow", "totalPatches"):
        if key not in data:
            return key
    return "projection.affine.doubleMatrix"
