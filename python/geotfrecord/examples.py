"""tf.train.Example and tf.train.SequenceExample from and to numpy, without TensorFlow.

Value types follow TensorFlow's three lists: floating arrays become a FloatList (float32, as Earth
Engine coerces numbers), integer and boolean arrays an Int64List, ``bytes``/``str`` a BytesList.
Features are written in the mapping's order, so the bytes are deterministic.

Examples
--------
>>> import numpy as np
>>> data = encode_example({"B4": np.arange(4, dtype=np.float32), "label": [3], "id": b"x"})
>>> decoded = decode_example(data)
>>> decoded["B4"], decoded["label"], decoded["id"]
(array([0., 1., 2., 3.], dtype=float32), array([3]), [b'x'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from . import _core

__all__ = [
    "FeatureValue",
    "decode_example",
    "decode_sequence_example",
    "encode_example",
    "encode_sequence_example",
]

#: What a feature may be given as.
FeatureValue = np.ndarray | Sequence[Any] | bytes | str | int | float
#: What a decoded feature is.
DecodedValue = np.ndarray | list

# Feature kinds, numbered as the fields of the Feature oneof in feature.proto.
KIND_NONE = 0
KIND_BYTES = 1
KIND_FLOAT = 2
KIND_INT64 = 3

_INT64 = np.iinfo(np.int64)


def _is_bytes_like(value: Any) -> bool:
    return isinstance(value, (bytes, bytearray, memoryview, str))


def _as_bytes(value: Any) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _typed(name: str, value: Any) -> tuple[int, Any]:
    """(kind, payload) for one feature value, or a TypeError/ValueError that names the feature."""
    if _is_bytes_like(value):
        return KIND_BYTES, [_as_bytes(value)]
    if isinstance(value, (list, tuple)) and value and all(_is_bytes_like(v) for v in value):
        return KIND_BYTES, [_as_bytes(v) for v in value]
    array = np.asarray(value)
    kind = array.dtype.kind
    if kind == "f":
        return KIND_FLOAT, np.ascontiguousarray(array, dtype=np.float32).reshape(-1)
    if kind in "iub":
        if kind == "u" and array.size and array.dtype.itemsize == 8 and array.max() > _INT64.max:
            raise ValueError(f"feature {name!r}: uint64 value {array.max()} does not fit an int64 list")
        return KIND_INT64, np.ascontiguousarray(array, dtype=np.int64).reshape(-1)
    if kind in "SU" or (kind == "O" and all(_is_bytes_like(v) for v in array.reshape(-1))):
        return KIND_BYTES, [_as_bytes(v) for v in array.reshape(-1).tolist()]
    if array.size == 0:
        return KIND_FLOAT, np.empty(0, dtype=np.float32)
    raise TypeError(
        f"feature {name!r}: cannot encode values of type {type(value).__name__} (dtype {array.dtype}); "
        "give numbers, bytes or str"
    )


def _feature_tuples(features: Mapping[str, FeatureValue]) -> list[tuple[str, int, Any]]:
    if not isinstance(features, Mapping):
        raise TypeError(f"features must be a mapping of name to values, got {type(features).__name__}")
    out = []
    for name, value in features.items():
        if not isinstance(name, str):
            raise TypeError(f"feature names must be str, got {name!r}")
        out.append((name, *_typed(name, value)))
    return out


def encode_example(features: Mapping[str, FeatureValue]) -> bytes:
    """Serialise a ``tf.train.Example``.

    Parameters
    ----------
    features
        Feature name to values: numpy arrays of any shape (flattened row-major), lists, scalars,
        ``bytes`` or ``str``.

    Examples
    --------
    >>> len(encode_example({"x": [1.0, 2.0]}))
    19
    """
    return _core.encode_example(_feature_tuples(features))


def decode_example(data: bytes | bytearray | memoryview) -> dict[str, DecodedValue]:
    """Parse a serialised ``tf.train.Example`` into ``{name: float32 array | int64 array | [bytes]}``.

    Packed and unpacked repeated fields are both accepted. Malformed bytes raise ``ValueError``.

    Examples
    --------
    >>> decode_example(encode_example({"n": [1, -2]}))["n"]
    array([ 1, -2])
    """
    return _core.decode_example(data)


def encode_sequence_example(
    context: Mapping[str, FeatureValue],
    feature_lists: Mapping[str, Sequence[FeatureValue]],
) -> bytes:
    """Serialise a ``tf.train.SequenceExample``.

    Parameters
    ----------
    context
        Features of the whole sequence, as for :func:`encode_example`.
    feature_lists
        Name to a sequence of feature values, one per step.

    Examples
    --------
    >>> data = encode_sequence_example({"elevation": [12.0]}, {"ndvi": [[0.1], [0.2], [0.3]]})
    >>> ctx, lists = decode_sequence_example(data)
    >>> len(lists["ndvi"])
    3
    """
    if not isinstance(feature_lists, Mapping):
        raise TypeError(f"feature_lists must be a mapping, got {type(feature_lists).__name__}")
    lists = []
    for name, steps in feature_lists.items():
        if not isinstance(name, str):
            raise TypeError(f"feature list names must be str, got {name!r}")
        if _is_bytes_like(steps):
            raise TypeError(f"feature list {name!r} must be a sequence of steps, got a single bytes value")
        lists.append((name, [_typed(f"{name}[{i}]", step) for i, step in enumerate(steps)]))
    return _core.encode_sequence_example(_feature_tuples(context), lists)


def decode_sequence_example(
    data: bytes | bytearray | memoryview,
) -> tuple[dict[str, DecodedValue], dict[str, list[DecodedValue]]]:
    """Parse a serialised ``tf.train.SequenceExample`` into ``(context, feature_lists)``.

    Examples
    --------
    >>> decode_sequence_example(encode_sequence_example({}, {"t": [[1], [2]]}))[1]["t"]
    [array([1]), array([2])]
    """
    return _core.decode_sequence_example(data)
