"""Table ↔ TFRecord, as Earth Engine exports a FeatureCollection: one Example per row, every numeric
property a float list (arrays flattened, their shape recorded nowhere), strings as bytes lists,
always gzip, exactly one file.

Examples
--------
>>> import tempfile
>>> path = export_table([{"B4": 0.1, "landcover": 3}, {"B4": 0.3, "landcover": 1}], tempfile.mkdtemp() + "/t")
>>> path.endswith("t.tfrecord.gz")
True
>>> read_table(path)["landcover"].tolist()
[3.0, 1.0]
"""

from __future__ import annotations

import json
import math
import numbers
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from . import _core
from ._files import open_input
from .errors import OptionsError
from .examples import KIND_BYTES, KIND_FLOAT, decode_example
from .naming import table_name
from .records import RecordWriter, default_threads, read_records

__all__ = ["export_table", "read_table"]

GEOMETRY_COLUMN = "geometry"
#: Rows encoded per call of the core (bounds memory for very long tables).
ROWS_PER_BATCH = 65536


def _rows_from(rows: Any, geometry: bool) -> tuple[list[str], dict[str, list[Any]]]:
    """Any supported table → (column order, {column: values}); geometry as GeoJSON text if asked for."""
    if isinstance(rows, (str, os.PathLike)):
        with open_input(rows) as f:
            rows = json.loads(f.read().decode("utf-8"))
    module = type(rows).__module__
    if module.startswith("pyarrow"):
        import pyarrow as pa

        arrow: dict[str, Any] = {}
        for name in rows.column_names:
            if name == GEOMETRY_COLUMN and not geometry:
                continue
            column = rows.column(name)
            kind = column.type
            numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)
            # Numeric columns without nulls as arrays (the fast path); the rest value by value.
            arrow[name] = np.asarray(column) if numeric and column.null_count == 0 else column.to_pylist()
        return list(arrow), arrow
    if module.startswith(("pandas", "geopandas")):
        columns: dict[str, list[Any]] = {}
        for name in rows.columns:
            series = rows[name]
            is_geometry = type(series).__name__ == "GeoSeries"
            if is_geometry:
                if geometry:
                    columns[str(name)] = [None if g is None else json.dumps(g.__geo_interface__) for g in series]
                continue
            columns[str(name)] = series.to_numpy() if series.dtype.kind in "fiub" else series.tolist()
        return list(columns), columns
    if isinstance(rows, Mapping) and rows.get("type") == "FeatureCollection":
        features = rows.get("features")
        if not isinstance(features, list):
            raise OptionsError("rows.features", "a FeatureCollection needs a list of features")
        dicts = []
        for i, feature in enumerate(features):
            props = dict(feature.get("properties") or {})
            if geometry:
                props[GEOMETRY_COLUMN] = json.dumps(feature.get("geometry"))
            dicts.append((i, props))
        return _columns_of_dicts(dicts)
    if isinstance(rows, Iterable) and not isinstance(rows, (bytes, Mapping)):
        return _columns_of_dicts(list(enumerate(rows)))
    raise OptionsError(
        "rows", f"expected a DataFrame, a list of dicts, a GeoJSON FeatureCollection or a pyarrow Table, got {module}"
    )


def _columns_of_dicts(rows: list[tuple[int, Any]]) -> tuple[list[str], dict[str, list[Any]]]:
    order: dict[str, None] = {}
    for i, row in rows:
        if not isinstance(row, Mapping):
            raise OptionsError(
                f"rows[{i}]", f"each row must be a mapping of property to value, got {type(row).__name__}"
            )
        order.update(dict.fromkeys(map(str, row)))
    columns: dict[str, list[Any]] = {name: [] for name in order}
    for i, row in rows:
        for name in order:
            if name not in row:
                raise OptionsError(f"{name}[{i}]", f"row {i} has no value for property {name!r}")
            columns[name].append(row[name])
    return list(order), columns


def _missing(value: Any) -> bool:
    """None, a NaN of any float type (Python, numpy), pandas' NA or NaT."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    return isinstance(value, (float, np.floating)) and math.isnan(value)


def _column(name: str, values: Any) -> tuple[int, Any]:
    """(kind, payload) for the core: floats (rows, width) or bytes (data, offsets)."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        array = values.astype(np.float64, copy=False)
        bad = np.flatnonzero(np.isnan(array)) if array.dtype.kind == "f" else []
        if len(bad):
            raise OptionsError(f"{name}[{bad[0]}]", f"missing value in column {name!r} at row {bad[0]}")
        return KIND_FLOAT, array.astype(np.float32).reshape(len(array), 1)
    first = next((v for v in values if not _missing(v)), None)
    if isinstance(first, (str, bytes)):
        encoded = []
        for i, v in enumerate(values):
            if _missing(v):
                raise OptionsError(f"{name}[{i}]", f"missing value in column {name!r} at row {i}")
            if not isinstance(v, (str, bytes)):
                raise OptionsError(f"{name}[{i}]", f"column {name!r} mixes text with {type(v).__name__} at row {i}")
            encoded.append(v.encode("utf-8") if isinstance(v, str) else v)
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(b) for b in encoded], out=offsets[1:])
        return KIND_BYTES, (b"".join(encoded), offsets)
    flat = []
    for i, v in enumerate(values):
        if _missing(v):
            raise OptionsError(f"{name}[{i}]", f"missing value in column {name!r} at row {i}")
        if isinstance(v, numbers.Real):
            flat.append(np.array([v], dtype=np.float32))
            continue
        array = np.asarray(v)
        if array.dtype.kind not in "fiub":
            raise OptionsError(f"{name}[{i}]", f"column {name!r} row {i}: unsupported value of type {type(v).__name__}")
        if array.dtype.kind == "f" and np.isnan(array).any():
            raise OptionsError(f"{name}[{i}]", f"missing (NaN) element in column {name!r} at row {i}")
        flat.append(array.astype(np.float32).reshape(-1))
    widths = {len(a) for a in flat}
    if len(widths) > 1:
        return KIND_FLOAT, flat  # ragged arrays: encoded row by row
    width = widths.pop() if widths else 1
    return KIND_FLOAT, np.stack(flat).reshape(len(flat), width) if flat else np.zeros((0, 1), np.float32)


def export_table(
    rows: Any,
    prefix: str | os.PathLike[str],
    *,
    selectors: Sequence[str] | None = None,
    geometry: bool = False,
    threads: int | None = None,
) -> str:
    """Export a table to one gzip TFRecord file, as Earth Engine exports a FeatureCollection.

    Parameters
    ----------
    rows
        A pandas DataFrame or GeoDataFrame, a list of dicts, a GeoJSON FeatureCollection (dict, or the
        path of a file), or a pyarrow Table.
    prefix
        Earth Engine's ``fileNamePrefix``: the file is ``<prefix>.tfrecord.gz``, or
        ``<prefix>ee_export.tfrecord.gz`` when it ends in ``_`` or ``/``. Local or an fsspec URL.
    selectors
        Properties to export, in order (default: all).
    geometry
        Include the geometry, as GeoJSON text in a bytes feature named ``geometry`` (Earth Engine
        leaves it out of TFRecord exports, and so does this by default).

    Returns
    -------
    str
        The path written.
    """
    order, columns = _rows_from(rows, geometry)
    if selectors is not None:
        missing = [s for s in selectors if s not in columns]
        if missing:
            raise OptionsError("selectors", f"no property {missing[0]!r} (properties: {', '.join(order)})")
        order = list(selectors)
    lengths = {len(columns[name]) for name in order}
    count = lengths.pop() if lengths else 0
    encoded = [(name, *_column(name, columns[name])) for name in order]
    path = table_name(os.fspath(prefix))
    with RecordWriter(path, compressed=True, threads=threads) as writer:
        ragged = any(isinstance(payload, list) for _, _, payload in encoded)
        if ragged:
            for r in range(count):
                writer.write(_core.encode_example([(n, k, _row_of(k, p, r)) for n, k, p in encoded]))
        else:
            for start in range(0, count, ROWS_PER_BATCH):
                stop = min(count, start + ROWS_PER_BATCH)
                batch = [(n, k, _rows_slice(k, p, start, stop)) for n, k, p in encoded]
                framed, sizes = _core.encode_row_examples(batch, stop - start, threads or default_threads())
                writer.write_framed(framed, len(sizes))
    return path


def _row_of(kind: int, payload: Any, r: int) -> Any:
    if kind == KIND_BYTES:
        data, offsets = payload
        return [data[offsets[r] : offsets[r + 1]]]
    return payload[r]


def _rows_slice(kind: int, payload: Any, start: int, stop: int) -> Any:
    if kind == KIND_BYTES:
        data, offsets = payload
        return data, offsets[start : stop + 1]  # absolute offsets into the same data
    return payload[start:stop]


def read_table(path: str | os.PathLike[str], *, shapes: Mapping[str, Sequence[int]] | None = None) -> Any:
    """Read a table TFRecord (ours, Earth Engine's or TensorFlow's) into a pandas DataFrame.

    One-value properties become scalar columns; longer ones arrays, reshaped to ``shapes[name]`` when
    given (the shape is recorded nowhere in the file). Bytes properties become ``str`` where they are
    UTF-8, else stay ``bytes``.
    """
    import pandas as pd

    shapes = dict(shapes or {})
    columns: dict[str, list[Any]] = {}
    count = 0
    for index, record in enumerate(read_records(path)):
        for name, value in decode_example(record).items():
            column = columns.get(name)
            if column is None:  # a property first seen here: earlier rows lack it
                column = columns[name] = [None] * index
            column.append(_cell(name, value, shapes.get(name)))
        count = index + 1
        for column in columns.values():
            if len(column) < count:
                column.append(None)
    data = {}
    for name, values in columns.items():
        if all(isinstance(v, (float, int)) for v in values):
            data[name] = np.asarray(values)
        else:
            data[name] = values
    return pd.DataFrame(data)


def _cell(name: str, value: Any, shape: Sequence[int] | None) -> Any:
    if isinstance(value, list):
        texts = []
        for b in value:
            try:
                texts.append(b.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(b)
        return texts[0] if len(texts) == 1 else texts
    if shape is not None:
        try:
            return value.reshape(shape)
        except ValueError as err:
            raise OptionsError(f"shapes.{name}", f"{value.size} values cannot take shape {tuple(shape)}") from err
    return value.item() if value.size == 1 else value
