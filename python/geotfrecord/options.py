"""Export options in both Earth Engine spellings, validated into one frozen object.

``ee.batch.Export`` takes ``formatOptions`` (``patchDimensions``, ``kernelSize``, ``compressed``,
``maxFileSize``, ``maskedThreshold`` …); the REST API's ``TfRecordImageExportOptions`` spells the
same things ``tileDimensions``, ``marginDimensions``, ``compress``, ``maxSizeBytes``,
``maxMaskedRatio``. Earth Engine's Python client maps one onto the other with the numbers
unchanged (``marginDimensions`` *is* the kernel size), and so does this module. Every invalid
value raises :class:`~geotfrecord.OptionsError` naming the field as the caller spelled it.

Tiling (the edge policy): patches of ``patchDimensions`` tile the image row-major from its top-left
pixel; patches that would cross the right or bottom edge are dropped. Each patch is buffered by
``kernelSize // 2`` pixels on each side (x: columns left and right, y: rows above and below), so
the written tile is ``patch + 2 * (kernel // 2)``: 256 + kernel 128 → 384, kernel 1 → the patch
alone. Buffer pixels come from the neighbouring image; beyond the image edge they are masked.

Examples
--------
>>> a = TFRecordOptions.from_format_options({"patchDimensions": [256, 256], "kernelSize": [32, 32]})
>>> b = TFRecordOptions.from_rest({"tileDimensions": {"width": 256, "height": 256},
...                                "marginDimensions": {"width": 32, "height": 32}})
>>> a == b, a.tile_dimensions
(True, (288, 288))
"""

from __future__ import annotations

import difflib
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

from .errors import OptionsError

__all__ = ["DEFAULT_MAX_FILE_SIZE", "INTEGER_ENCODINGS", "TFRecordOptions"]

#: maxFileSize / maxSizeBytes default: 1 GiB.
DEFAULT_MAX_FILE_SIZE = 1 << 30
#: How integer bands are written: "float" (Earth Engine's documented coercion) or "native"
#: (uint8 as one raw byte string per band, other integers as int64 lists, as the service has been seen to do).
INTEGER_ENCODINGS = ("float", "native")


@dataclass(frozen=True)
class Spellings:
    """The two Earth Engine spellings of one options object: attribute → (ee.batch name, REST name)."""

    table: Mapping[str, tuple[str, str]]

    @property
    def format(self) -> dict[str, str]:
        """ee.batch name → attribute."""
        return {ee: attr for attr, (ee, _) in self.table.items()}

    @property
    def rest(self) -> dict[str, str]:
        """REST name → attribute."""
        return {rest: attr for attr, (_, rest) in self.table.items()}

    def is_rest(self, options: Mapping[str, Any], prefix: str) -> bool:
        """Whether ``options`` uses the REST spelling (a name only REST has); mixing the two is an error."""
        if not isinstance(options, Mapping):
            raise OptionsError(prefix.rstrip(".") or "formatOptions", f"must be an object, got {options!r}")
        rest = [k for k in options if k in self.rest and k not in self.format]
        ee = [k for k in options if k in self.format and k not in self.rest]
        if rest and ee:
            raise OptionsError(
                prefix + rest[0], f"REST spelling mixed with ee.batch spelling ({ee[0]!r}); use one of the two"
            )
        return bool(rest)


# attribute → (ee.batch formatOptions name, REST TfRecordImageExportOptions name)
_SPELLINGS = Spellings(
    {
        "patch_dimensions": ("patchDimensions", "tileDimensions"),
        "kernel_size": ("kernelSize", "marginDimensions"),
        "compressed": ("compressed", "compress"),
        "max_file_size": ("maxFileSize", "maxSizeBytes"),
        "default_value": ("defaultValue", "defaultValue"),
        "tensor_depths": ("tensorDepths", "tensorDepths"),
        "sequence_data": ("sequenceData", "sequenceData"),
        "collapse_bands": ("collapseBands", "collapseBands"),
        "masked_threshold": ("maskedThreshold", "maxMaskedRatio"),
        "integer_encoding": ("integerEncoding", "integerEncoding"),
    }
)
_FORMAT = _SPELLINGS.format
_REST = _SPELLINGS.rest


def _reject_unknown(data: Mapping[str, Any], known: Mapping[str, Any], prefix: str) -> None:
    for key in data:
        if key not in known:
            hint = difflib.get_close_matches(str(key), list(known), n=1)
            suggestion = f"; did you mean {hint[0]!r}?" if hint else ""
            raise OptionsError(prefix + str(key), f"unknown option{suggestion} (known: {', '.join(known)})")


def _is_int(v: Any) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _positive_pair(value: Any, name: str) -> tuple[int, int]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise OptionsError(name, f"must be two integers [x, y], got {value!r}")
    x, y = value
    for axis, v in (("[0]", x), ("[1]", y)):
        if not _is_int(v) or v <= 0:
            raise OptionsError(name + axis, f"must be a positive integer, got {v!r}")
    return int(x), int(y)


def _grid(value: Any, name: str) -> tuple[int, int]:
    """A REST GridDimensions ``{width, height}``."""
    if not isinstance(value, Mapping):
        raise OptionsError(name, f"must be a GridDimensions object {{width, height}}, got {value!r}")
    _reject_unknown(value, {"width": 0, "height": 0}, name + ".")
    out = []
    for key in ("width", "height"):
        if key not in value:
            raise OptionsError(f"{name}.{key}", "required")
        v = value[key]
        if not _is_int(v) or v <= 0:
            raise OptionsError(f"{name}.{key}", f"must be a positive integer, got {v!r}")
        out.append(int(v))
    return out[0], out[1]


def _unwrap(value: Any, name: str) -> Any:
    """Earth Engine's client wraps some REST numbers as ``{"value": ...}``."""
    if isinstance(value, Mapping):
        _reject_unknown(value, {"value": 0}, name + ".")
        if "value" not in value:
            raise OptionsError(name + ".value", "required")
        return value["value"]
    return value


def _int64(value: Any, name: str) -> int:
    """An Int64Value: a decimal string, an integer, or ``{"value": ...}``."""
    value = _unwrap(value, name)
    if isinstance(value, str):
        text = value.strip()
        if not text.lstrip("+-").isdigit():
            raise OptionsError(name, f"must be an integer (an Int64Value decimal string), got {value!r}")
        return int(text)
    if _is_int(value):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise OptionsError(name, f"must be an integer, got {value!r}")


def _bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise OptionsError(name, f"must be true or false, got {value!r}")
    return value


@dataclass(frozen=True)
class TFRecordOptions:
    """Validated options of an image export to TFRecord.

    Build it from Python keywords, :meth:`from_format_options` (ee.batch spelling) or
    :meth:`from_rest` (REST spelling); all three validate the same way.

    Examples
    --------
    >>> TFRecordOptions(patch_dimensions=(64, 32), kernel_size=(5, 5)).margin
    (2, 2)
    >>> TFRecordOptions(patch_dimensions=(0, 32))
    Traceback (most recent call last):
    ...
    geotfrecord.errors.OptionsError: patchDimensions[0]: must be a positive integer, got 0
    """

    patch_dimensions: tuple[int, int]
    kernel_size: tuple[int, int] = (1, 1)
    compressed: bool = True
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    default_value: float = 0.0
    tensor_depths: Mapping[str, int] = field(default_factory=dict)
    sequence_data: bool = False
    collapse_bands: bool = False
    masked_threshold: float = 1.0
    integer_encoding: str = "float"

    def __post_init__(self) -> None:
        names = {attr: spellings[0] for attr, spellings in _SPELLINGS.table.items()}
        for f in fields(self):
            object.__setattr__(self, f.name, _validate(f.name, getattr(self, f.name), names[f.name]))

    @property
    def margin(self) -> tuple[int, int]:
        """Buffer on each side, (x, y): ``kernelSize // 2``."""
        return self.kernel_size[0] // 2, self.kernel_size[1] // 2

    @property
    def tile_dimensions(self) -> tuple[int, int]:
        """Width and height of a written tile: the patch plus the buffer on both sides."""
        (pw, ph), (mx, my) = self.patch_dimensions, self.margin
        return pw + 2 * mx, ph + 2 * my

    @classmethod
    def from_format_options(cls, options: Mapping[str, Any], *, prefix: str = "") -> TFRecordOptions:
        """From ``ee.batch.Export`` ``formatOptions`` (camelCase)."""
        if not isinstance(options, Mapping):
            raise OptionsError(prefix.rstrip(".") or "formatOptions", f"must be an object, got {options!r}")
        _reject_unknown(options, _FORMAT, prefix)
        if "patchDimensions" not in options:
            raise OptionsError(prefix + "patchDimensions", "required")
        kwargs = {_FORMAT[k]: _validate(_FORMAT[k], v, prefix + k) for k, v in options.items()}
        return cls(**kwargs)

    @classmethod
    def from_rest(cls, options: Mapping[str, Any], *, prefix: str = "") -> TFRecordOptions:
        """From the REST ``TfRecordImageExportOptions`` JSON."""
        if not isinstance(options, Mapping):
            raise OptionsError(prefix.rstrip(".") or "tfRecordOptions", f"must be an object, got {options!r}")
        _reject_unknown(options, _REST, prefix)
        if "tileDimensions" not in options:
            raise OptionsError(prefix + "tileDimensions", "required")
        kwargs: dict[str, Any] = {}
        for key, value in options.items():
            attr, name = _REST[key], prefix + key
            if attr in ("patch_dimensions", "kernel_size"):
                kwargs[attr] = _grid(value, name)
            elif attr == "max_file_size":
                kwargs[attr] = _validate(attr, _int64(value, name), name)
            elif attr == "masked_threshold":
                kwargs[attr] = _validate(attr, _unwrap(value, name), name)
            else:
                kwargs[attr] = _validate(attr, value, name)
        return cls(**kwargs)

    @classmethod
    def from_any(cls, options: Mapping[str, Any], *, prefix: str = "") -> TFRecordOptions:
        """From either spelling, told apart by its keys; mixing the two is an error."""
        if _SPELLINGS.is_rest(options, prefix):
            return cls.from_rest(options, prefix=prefix)
        return cls.from_format_options(options, prefix=prefix)

    def to_format_options(self) -> dict[str, Any]:
        """The ee.batch ``formatOptions`` spelling of these options."""
        return {
            "patchDimensions": list(self.patch_dimensions),
            "kernelSize": list(self.kernel_size),
            "compressed": self.compressed,
            "maxFileSize": self.max_file_size,
            "defaultValue": self.default_value,
            "tensorDepths": dict(self.tensor_depths),
            "sequenceData": self.sequence_data,
            "collapseBands": self.collapse_bands,
            "maskedThreshold": self.masked_threshold,
            "integerEncoding": self.integer_encoding,
        }

    def to_rest(self) -> dict[str, Any]:
        """The REST ``TfRecordImageExportOptions`` spelling of these options."""
        (pw, ph), (kx, ky) = self.patch_dimensions, self.kernel_size
        return {
            "tileDimensions": {"width": pw, "height": ph},
            "marginDimensions": {"width": kx, "height": ky},
            "compress": self.compressed,
            "maxSizeBytes": str(self.max_file_size),
            "defaultValue": self.default_value,
            "tensorDepths": dict(self.tensor_depths),
            "sequenceData": self.sequence_data,
            "collapseBands": self.collapse_bands,
            "maxMaskedRatio": self.masked_threshold,
            "integerEncoding": self.integer_encoding,
        }


def _validate(attr: str, value: Any, name: str) -> Any:
    """Check and normalise one option; ``name`` is how the caller spelled it."""
    if attr in ("patch_dimensions", "kernel_size"):
        return _positive_pair(value, name)
    if attr in ("compressed", "sequence_data", "collapse_bands"):
        return _bool(value, name)
    if attr == "max_file_size":
        if not _is_int(value) or value <= 0:
            raise OptionsError(name, f"must be a positive number of bytes, got {value!r}")
        return int(value)
    if attr == "default_value":
        if not _is_number(value):
            raise OptionsError(name, f"must be a number, got {value!r}")
        return float(value)
    if attr == "masked_threshold":
        if not _is_number(value) or math.isnan(value) or not 0.0 <= value <= 1.0:
            raise OptionsError(name, f"must be a number in [0, 1], got {value!r}")
        return float(value)
    if attr == "integer_encoding":
        if value not in INTEGER_ENCODINGS:
            raise OptionsError(name, f"must be one of {', '.join(INTEGER_ENCODINGS)}, got {value!r}")
        return value
    if attr == "tensor_depths":
        if value is None:
            return MappingProxyType({})
        if not isinstance(value, Mapping):
            raise OptionsError(name, f"must map array band names to depths, got {value!r}")
        depths = {}
        for band, depth in value.items():
            if not isinstance(band, str):
                raise OptionsError(name, f"band names must be strings, got {band!r}")
            if not _is_int(depth) or depth <= 0:
                raise OptionsError(f"{name}.{band}", f"must be a positive integer, got {depth!r}")
            depths[band] = int(depth)
        return MappingProxyType(depths)
    raise AssertionError(attr)  # pragma: no cover
