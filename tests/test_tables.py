"""Table ↔ TFRecord, as Earth Engine exports a FeatureCollection.

One Example per row, read by TensorFlow the guide's way: ``tf.io.FixedLenFeature([1], tf.float32)`` per
scalar property, ``[k]`` for an array property (flattened), strings as ``tf.string``; always gzip, always
one file, named as Earth Engine names it.
"""

from __future__ import annotations

import datetime
import json
import os
import time

import numpy as np
import pandas as pd
import pytest

import geotfrecord
from geotfrecord import OptionsError, export_table, read_table

RNG = np.random.default_rng(7)


# --------------------------------------------------------------------------------------------- helpers


def listing(folder):
    return sorted(os.listdir(folder))


def tf_rows(tf, path, spec, *, compressed=True):
    dataset = tf.data.TFRecordDataset(str(path), compression_type="GZIP" if compressed else "")
    return [{k: v.numpy() for k, v in tf.io.parse_single_example(r, spec).items()} for r in dataset]


def scalar_spec(tf, names):
    return {n: tf.io.FixedLenFeature([1], tf.float32) for n in names}


def assert_gzip_single_file(folder, path):
    assert listing(folder) == [os.path.basename(path)]
    with open(path, "rb") as f:
        assert f.read(2) == b"\x1f\x8b"


def sample_frame(n=5):
    return pd.DataFrame(
        {
            "B2": RNG.random(n),
            "B3": RNG.random(n).astype(np.float32),
            "landcover": RNG.integers(0, 10, n),
            "water": RNG.random(n) > 0.5,
            "name": [f"row {i} é" for i in range(n)],
            "vec": [RNG.random(3) for _ in range(n)],
        }
    )


# ------------------------------------------------------------------------------------------------ inputs


def test_dataframe(tf, tmp_path):
    df = sample_frame()
    path = export_table(df, str(tmp_path / "table"))
    assert path == str(tmp_path / "table.tfrecord.gz")
    assert_gzip_single_file(tmp_path, path)
    spec = {
        **scalar_spec(tf, ["B2", "B3", "landcover", "water"]),
        "name": tf.io.FixedLenFeature([1], tf.string),
        "vec": tf.io.FixedLenFeature([3], tf.float32),
    }
    rows = tf_rows(tf, path, spec)
    assert len(rows) == len(df)
    for i, row in enumerate(rows):
        for name in ("B2", "B3", "landcover", "water"):
            np.testing.assert_array_equal(row[name], np.float32([df[name][i]]), err_msg=f"{name}[{i}]")
        assert row["name"][0].decode("utf-8") == df["name"][i]
        np.testing.assert_array_equal(row["vec"], df["vec"][i].astype(np.float32))


def test_list_of_dicts_with_array_properties(tf, tmp_path):
    rows = [
        {
            "B4": 0.25 * i,
            "label": i,
            "matrix": np.arange(6).reshape(2, 3) + i,
            "series": [1.5, 2.5, float(i)],
            "id": f"f{i}",
        }
        for i in range(4)
    ]
    path = export_table(rows, tmp_path / "t")
    spec = {
        **scalar_spec(tf, ["B4", "label"]),
        "matrix": tf.io.FixedLenFeature([6], tf.float32),  # flattened row-major; the shape is not recorded
        "series": tf.io.FixedLenFeature([3], tf.float32),
        "id": tf.io.FixedLenFeature([], tf.string),
    }
    got = tf_rows(tf, path, spec)
    for i, row in enumerate(got):
        assert row["B4"].tolist() == [0.25 * i]
        assert row["label"].tolist() == [i]
        assert row["matrix"].tolist() == list(range(i, i + 6))
        assert row["series"].tolist() == [1.5, 2.5, i]
        assert row["id"] == f"f{i}".encode()
    back = read_table(path, shapes={"matrix": (2, 3)})
    assert list(back.columns) == ["B4", "label", "matrix", "series", "id"]
    np.testing.assert_array_equal(back["matrix"][3], np.arange(6).reshape(2, 3) + 3)


def test_ragged_array_property(tmp_path):
    """Arrays of different lengths per row are written as they are (each row its own length)."""
    rows = [{"v": [1.0] * n} for n in (1, 3, 2)]
    back = read_table(export_table(rows, tmp_path / "t"))
    assert back["v"][0] == 1.0
    assert back["v"][1].tolist() == [1.0, 1.0, 1.0]
    assert back["v"][2].tolist() == [1.0, 1.0]


FEATURE_COLLECTION = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [13.6 + i, 45.4]},
            "properties": {"B2": 0.5 + i, "landcover": i, "class_name": f"c{i}"},
        }
        for i in range(3)
    ],
}


@pytest.mark.parametrize("source", ["dict", "file"])
def test_geojson_feature_collection(tf, tmp_path, source):
    rows = FEATURE_COLLECTION
    if source == "file":
        rows = tmp_path / "fc.geojson"
        rows.write_text(json.dumps(FEATURE_COLLECTION), encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    path = export_table(rows, out / "fc")
    assert_gzip_single_file(out, path)
    spec = {**scalar_spec(tf, ["B2", "landcover"]), "class_name": tf.io.FixedLenFeature([1], tf.string)}
    got = tf_rows(tf, path, spec)
    assert [r["B2"].tolist() for r in got] == [[0.5], [1.5], [2.5]]
    assert [r["class_name"][0] for r in got] == [b"c0", b"c1", b"c2"]
    # Geometry is left out, as Earth Engine leaves it out; asked for, it is GeoJSON text.
    assert "geometry" not in read_table(path).columns
    back = read_table(export_table(rows, out / "with_geometry", geometry=True))
    assert [json.loads(g) for g in back["geometry"]] == [f["geometry"] for f in FEATURE_COLLECTION["features"]]


def test_pyarrow_table(tf, tmp_path):
    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {
            "x": pa.array([1.5, 2.5, 3.5], pa.float64()),
            "n": pa.array([1, 2, 3], pa.int32()),
            "ok": pa.array([True, False, True]),
            "s": pa.array(["a", "b", "c"]),
            "v": pa.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]),
            "geometry": pa.array([b"\x01", b"\x02", b"\x03"]),  # e.g. WKB: not exported by default
        }
    )
    path = export_table(table, tmp_path / "arrow")
    spec = {
        **scalar_spec(tf, ["x", "n", "ok"]),
        "s": tf.io.FixedLenFeature([1], tf.string),
        "v": tf.io.FixedLenFeature([2], tf.float32),
    }
    got = tf_rows(tf, path, spec)
    assert [r["x"][0] for r in got] == [1.5, 2.5, 3.5]
    assert [r["n"][0] for r in got] == [1, 2, 3]
    assert [r["ok"][0] for r in got] == [1, 0, 1]
    assert [r["v"].tolist() for r in got] == [[1, 2], [3, 4], [5, 6]]
    assert list(read_table(path).columns) == ["x", "n", "ok", "s", "v"]
    # The same table as pandas writes the same bytes.
    via_pandas = export_table(table.drop_columns(["geometry"]).to_pandas(), tmp_path / "pandas")
    assert [*geotfrecord.read_records(path)] == [*geotfrecord.read_records(via_pandas)]


def test_geodataframe(tf, tmp_path):
    gpd = pytest.importorskip("geopandas")
    shapely = pytest.importorskip("shapely")
    gdf = gpd.GeoDataFrame(
        {"B2": [0.1, 0.2], "landcover": [1, 2]},
        geometry=[shapely.geometry.Point(1, 2), shapely.geometry.Point(3, 4)],
        crs="EPSG:4326",
    )
    path = export_table(gdf, tmp_path / "gdf")
    got = tf_rows(tf, path, scalar_spec(tf, ["B2", "landcover"]))
    assert [r["landcover"][0] for r in got] == [1, 2]
    assert list(read_table(path).columns) == ["B2", "landcover"]
    back = read_table(export_table(gdf, tmp_path / "geo", geometry=True))
    assert json.loads(back["geometry"][1]) == {"type": "Point", "coordinates": [3.0, 4.0]}


def test_selectors(tmp_path):
    df = sample_frame()
    back = read_table(export_table(df, tmp_path / "t", selectors=["landcover", "B2"]))
    assert list(back.columns) == ["landcover", "B2"]
    np.testing.assert_array_equal(back["landcover"], df["landcover"].astype(float))
    with pytest.raises(OptionsError, match="no property 'B9'") as info:
        export_table(df, tmp_path / "u", selectors=["B2", "B9"])
    assert info.value.field == "selectors"
    assert listing(tmp_path) == ["t.tfrecord.gz"]


# ------------------------------------------------------------------------------------------------ naming


@pytest.mark.parametrize(
    ("prefix", "name"),
    [
        ("table", "table.tfrecord.gz"),
        ("table_", "table_ee_export.tfrecord.gz"),
        ("folder/", "folder/ee_export.tfrecord.gz"),
        ("deep/er/train", "deep/er/train.tfrecord.gz"),
    ],
)
def test_file_naming(tmp_path, prefix, name):
    path = export_table([{"a": 1}], f"{tmp_path}/{prefix}")
    assert path == f"{tmp_path}/{name}"
    files = sorted(os.path.relpath(os.path.join(d, f), tmp_path) for d, _, fs in os.walk(tmp_path) for f in fs)
    assert files == [name], "exactly one file, gzip, nothing else"
    with open(path, "rb") as f:
        assert f.read(2) == b"\x1f\x8b"


def test_empty_table_is_one_valid_gzip_file(tf, tmp_path):
    path = export_table([], tmp_path / "empty")
    assert_gzip_single_file(tmp_path, path)
    assert tf_rows(tf, path, scalar_spec(tf, ["a"])) == []
    assert len(read_table(path)) == 0


# ---------------------------------------------------------------------------------------- bad values


MISSING = [
    ("none in list of dicts", [{"a": 1.0}, {"a": None}], "a", 1),
    ("nan in list of dicts", [{"a": 1.0}, {"a": 2.0}, {"a": float("nan")}], "a", 2),
    ("numpy float32 nan", [{"a": np.float32("nan")}, {"a": 1.0}], "a", 0),
    ("numpy float64 nan", [{"b": 1}, {"b": np.float64("nan")}], "b", 1),
    ("nan element of an array", [{"v": [1.0, 2.0]}, {"v": np.array([1.0, np.nan])}], "v", 1),
    ("none in text", [{"s": "x"}, {"s": None}], "s", 1),
    ("dataframe float nan", pd.DataFrame({"ok": [1, 2, 3], "x": [0.5, np.nan, 1.0]}), "x", 1),
    ("dataframe text none", pd.DataFrame({"s": ["a", "b", None]}), "s", 2),
    ("dataframe nullable int", pd.DataFrame({"n": pd.array([1, None], dtype="Int64")}), "n", 1),
    ("dataframe nullable float", pd.DataFrame({"f": pd.array([None, 1.5], dtype="Float64")}), "f", 0),
    ("dataframe object pd.NA", pd.DataFrame({"o": pd.Series([1.0, pd.NA], dtype=object)}), "o", 1),
    ("dataframe NaT", pd.DataFrame({"t": pd.Series([pd.NaT, pd.NaT])}), "t", 0),
    ("feature collection null", {"type": "FeatureCollection", "features": [{"properties": {"p": None}}]}, "p", 0),
]


@pytest.mark.parametrize(("rows", "column", "row"), [m[1:] for m in MISSING], ids=[m[0] for m in MISSING])
def test_missing_values_name_column_and_row(tmp_path, rows, column, row):
    with pytest.raises(OptionsError) as info:
        export_table(rows, tmp_path / "t")
    assert info.value.field == f"{column}[{row}]"
    assert f"missing value in column {column!r} at row {row}" in str(info.value) or "missing (NaN)" in str(info.value)
    assert listing(tmp_path) == []


def test_missing_pyarrow_value(tmp_path):
    pa = pytest.importorskip("pyarrow")
    with pytest.raises(OptionsError) as info:
        export_table(pa.table({"a": [1.0, 2.0, None]}), tmp_path / "t")
    assert info.value.field == "a[2]"
    assert listing(tmp_path) == []


UNSUPPORTED = [
    ("dict value", [{"a": 1}, {"a": {"x": 1}}], "a", 1, "unsupported value of type dict"),
    ("datetime", [{"when": datetime.datetime(2020, 1, 1)}], "when", 0, "unsupported value of type datetime"),
    ("text then number", [{"s": "a"}, {"s": 3}], "s", 1, "mixes text with int"),
    ("number then text", [{"s": 3}, {"s": "a"}], "s", 1, "unsupported value of type str"),
    ("list of strings", [{"tags": ["a", "b"]}], "tags", 0, "unsupported value of type list"),
    ("dataframe timestamps", pd.DataFrame({"t": pd.to_datetime(["2020-01-01"])}), "t", 0, "Timestamp"),
    ("missing property", [{"a": 1, "b": 2}, {"a": 3}], "b", 1, "row 1 has no value for property 'b'"),
]


@pytest.mark.parametrize(
    ("rows", "column", "row", "text"), [u[1:] for u in UNSUPPORTED], ids=[u[0] for u in UNSUPPORTED]
)
def test_unsupported_values_name_column_and_row(tmp_path, rows, column, row, text):
    with pytest.raises(OptionsError, match=text) as info:
        export_table(rows, tmp_path / "t")
    assert info.value.field == f"{column}[{row}]"
    assert listing(tmp_path) == []


def test_not_a_table(tmp_path):
    for rows in (42, {"type": "Feature"}, [1, 2]):
        with pytest.raises(OptionsError):
            export_table(rows, tmp_path / "t")
    assert listing(tmp_path) == []


# ------------------------------------------------------------------------------------------- read_table


def test_read_table_of_our_files(tmp_path):
    df = sample_frame()
    back = read_table(export_table(df, tmp_path / "t"))
    assert list(back.columns) == list(df.columns)
    np.testing.assert_array_equal(back["B2"], df["B2"].astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(back["landcover"], df["landcover"].astype(np.float64))  # numbers are floats
    np.testing.assert_array_equal(back["water"], df["water"].astype(np.float64))
    assert back["name"].tolist() == df["name"].tolist()
    for got, want in zip(back["vec"], df["vec"], strict=True):
        np.testing.assert_array_equal(got, want.astype(np.float32))
    shaped = read_table(tmp_path / "t.tfrecord.gz", shapes={"vec": (3, 1)})
    assert shaped["vec"][0].shape == (3, 1)
    with pytest.raises(OptionsError, match="3 values cannot take shape") as info:
        read_table(tmp_path / "t.tfrecord.gz", shapes={"vec": (2, 2)})
    assert info.value.field == "shapes.vec"


@pytest.mark.parametrize("compression", ["GZIP", ""], ids=["gzip", "plain"])
def test_read_table_of_tensorflow_files(tf, tmp_path, compression):
    def feature(value):
        if isinstance(value, bytes):
            return tf.train.Feature(bytes_list=tf.train.BytesList(value=[value]))
        array = np.asarray(value).reshape(-1)
        if array.dtype.kind == "f":
            return tf.train.Feature(float_list=tf.train.FloatList(value=array.tolist()))
        return tf.train.Feature(int64_list=tf.train.Int64List(value=array.tolist()))

    path = str(tmp_path / "tf.tfrecord")
    rows = [
        {"x": np.float32(0.5), "n": 7, "s": b"alpha", "raw": b"\xff\xfe", "m": np.arange(6, dtype=np.float32)},
        {"x": np.float32(1.5), "n": -2, "s": "béta".encode(), "raw": b"\xc3", "m": np.ones(6, np.float32)},
        {"x": np.float32(2.5), "n": 0, "s": b"", "raw": b"\x80", "m": np.zeros(6, np.float32), "extra": 1.0},
    ]
    with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type=compression)) as writer:
        for row in rows:
            example = tf.train.Example(features=tf.train.Features(feature={k: feature(v) for k, v in row.items()}))
            writer.write(example.SerializeToString())
    back = read_table(path, shapes={"m": (2, 3)})
    assert len(back) == 3
    assert back["x"].tolist() == [0.5, 1.5, 2.5]
    assert back["n"].tolist() == [7, -2, 0]  # int64 lists stay integers
    assert back["s"].tolist() == ["alpha", "béta", ""]
    assert back["raw"].tolist() == [b"\xff\xfe", b"\xc3", b"\x80"]  # not UTF-8: bytes
    np.testing.assert_array_equal(back["m"][0], np.arange(6).reshape(2, 3))
    assert back["extra"].isna().tolist() == [True, True, False]  # a property only some rows have


# --------------------------------------------------------------------------------------------- 100k rows


def test_hundred_thousand_rows_round_trip(tf, tmp_path):
    n = 100_000
    df = pd.DataFrame(
        {
            "B2": RNG.random(n).astype(np.float32),
            "B3": RNG.random(n),
            "landcover": RNG.integers(0, 17, n),
            "id": [f"p{i}" for i in range(n)],
        }
    )
    start = time.perf_counter()
    path = export_table(df, tmp_path / "big")
    exported = time.perf_counter()
    back = read_table(path)
    read = time.perf_counter()
    # Both take well under a second; the row-by-row export and a read quadratic in rows take many.
    assert exported - start < 3, f"exporting 100k rows took {exported - start:.1f} s: the fast path is gone"
    assert read - exported < 4, f"reading 100k rows took {read - exported:.1f} s"
    assert_gzip_single_file(tmp_path, path)
    np.testing.assert_array_equal(back["B2"], df["B2"].astype(np.float64))
    np.testing.assert_array_equal(back["B3"], df["B3"].astype(np.float32).astype(np.float64))
    np.testing.assert_array_equal(back["landcover"], df["landcover"].astype(np.float64))
    assert back["id"].tolist() == df["id"].tolist()
    # TensorFlow agrees, parsing the whole file in one batch.
    spec = {**scalar_spec(tf, ["B2", "landcover"]), "id": tf.io.FixedLenFeature([1], tf.string)}
    dataset = tf.data.TFRecordDataset(path, compression_type="GZIP").batch(n)
    (parsed,) = [tf.io.parse_example(batch, spec) for batch in dataset]
    np.testing.assert_array_equal(parsed["B2"].numpy()[:, 0], df["B2"].to_numpy())
    np.testing.assert_array_equal(parsed["landcover"].numpy()[:, 0], df["landcover"].to_numpy().astype(np.float32))
    assert parsed["id"].numpy()[-1, 0] == b"p99999"
