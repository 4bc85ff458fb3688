"""Image export to TFRecord against a plain numpy model of Earth Engine's semantics (ee_reference.py).

Files are read back the way Earth Engine's tutorials read them: ``tf.data.TFRecordDataset(files,
compression_type='GZIP')`` and ``tf.io.parse_single_example`` with ``FixedLenFeature([tileH, tileW],
tf.float32)`` per band; the property test reads them with geotfrecord's own decoder (no TensorFlow).
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import geotfrecord
from ee_reference import EE_MIXER, Band, band_default, reference_export, shard_sizes
from geotfrecord import ArrayBand, export_image

# --------------------------------------------------------------------------------------------- helpers


def tile_shape(patch, kernel):
    """(rows, cols) of a written tile: the patch plus kernel // 2 on each side."""
    return patch[1] + 2 * (kernel[1] // 2), patch[0] + 2 * (kernel[0] // 2)


def tf_examples(tf, files, spec, *, compressed=True):
    """Every Example of ``files`` parsed the Earth Engine tutorials' way, as dicts of numpy arrays."""
    dataset = tf.data.TFRecordDataset(list(files), compression_type="GZIP" if compressed else "")
    dataset = dataset.map(lambda record: tf.io.parse_single_example(record, spec))
    return [{k: v.numpy() for k, v in parsed.items()} for parsed in dataset]


def tf_sequence_examples(tf, files, context_spec, sequence_spec):
    """Every SequenceExample of ``files`` as (context, feature_lists) dicts of numpy arrays."""
    dataset = tf.data.TFRecordDataset(list(files), compression_type="GZIP")
    out = []
    for record in dataset:
        context, lists = tf.io.parse_single_sequence_example(
            record, context_features=context_spec, sequence_features=sequence_spec
        )
        out.append(({k: v.numpy() for k, v in context.items()}, {k: v.numpy() for k, v in lists.items()}))
    return out


def float_spec(tf, expected_record):
    """A float32 FixedLenFeature per band, shaped like the reference's arrays."""
    return {name: tf.io.FixedLenFeature(list(a.shape), tf.float32) for name, a in expected_record.items()}


def assert_same_records(actual, expected):
    assert len(actual) == len(expected)
    for i, (got, want) in enumerate(zip(actual, expected, strict=True)):
        assert sorted(got) == sorted(want), f"record {i}"
        for name in want:
            np.testing.assert_array_equal(got[name], want[name], err_msg=f"record {i}, band {name}", strict=True)


def assert_same_sequences(actual, expected):
    assert len(actual) == len(expected)
    for i, ((got_ctx, got_lists), (want_ctx, want_lists)) in enumerate(zip(actual, expected, strict=True)):
        assert_same_records([got_ctx], [want_ctx])
        assert sorted(got_lists) == sorted(want_lists), f"record {i}"
        for name, want in want_lists.items():
            np.testing.assert_array_equal(got_lists[name], want, err_msg=f"record {i}, list {name}", strict=True)


def decoded_examples(files, expected_like):
    """Our own decoder's view of ``files``, shaped like the reference records (a BytesList → uint8)."""
    out = []
    records = [geotfrecord.decode_example(data) for path in files for data in geotfrecord.read_records(path)]
    for record, like in zip(records, [*expected_like, *[{}] * len(records)], strict=False):
        shaped = {}
        for name, value in record.items():
            if isinstance(value, list):
                assert len(value) == 1, "one bytes value per band"
                value = np.frombuffer(value[0], dtype=np.uint8)
            want = like.get(name)
            shaped[name] = value.reshape(want.shape) if want is not None and value.size == want.size else value
        out.append(shaped)
    return out


def decoded_sequences(files):
    out = []
    for path in files:
        for data in geotfrecord.read_records(path):
            context, lists = geotfrecord.decode_sequence_example(data)
            flat = {}
            for name, steps in lists.items():
                for step in steps:
                    assert np.shape(step) == (1,), "one value per step"
                flat[name] = np.concatenate(steps) if steps else np.empty(0, np.float32)
            out.append((context, flat))
    return out


def listing(root):
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


RNG = np.random.default_rng(20240611)


def random_band(shape, dtype, rng=RNG):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return (rng.normal(size=shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(int(info.min), int(info.max), size=shape, endpoint=True).astype(dtype)


# ----------------------------------------------------------------------------------- the reference itself


def test_reference_matches_a_hand_worked_tile():
    """Anchor the model on values worked out by hand: 4 x 4 image, 2 x 2 patches, kernel 3, default -1."""
    image = np.arange(16, dtype=np.float32).reshape(4, 4)
    expected = reference_export([Band("b1", image)], patch=(2, 2), kernel=(3, 3), default=-1)
    tiles = [r["b1"].tolist() for r in expected.records]
    assert tiles[0] == [[-1, -1, -1, -1], [-1, 0, 1, 2], [-1, 4, 5, 6], [-1, 8, 9, 10]]
    assert tiles[1] == [[-1, -1, -1, -1], [1, 2, 3, -1], [5, 6, 7, -1], [9, 10, 11, -1]]
    assert tiles[3] == [[5, 6, 7, -1], [9, 10, 11, -1], [13, 14, 15, -1], [-1, -1, -1, -1]]
    # Kernel (4, 1): two columns either side, no rows.
    expected = reference_export([Band("b1", image)], patch=(2, 2), kernel=(4, 1), default=-1)
    assert expected.records[0]["b1"].tolist() == [[-1, -1, 0, 1, 2, 3], [-1, -1, 4, 5, 6, 7]]
    assert band_default(np.dtype("uint8"), -3.7) == 0
    assert band_default(np.dtype("uint8"), 300.9) == 255
    assert band_default(np.dtype("int16"), -3.7) == -3
    assert shard_sizes([84, 84, 84, 84], 200) == [2, 2]
    assert shard_sizes([84, 84, 84, 84], 199) == [1, 1, 1, 1]
    assert shard_sizes([500, 10, 10], 100) == [1, 2]


# ------------------------------------------------------------------------------------- tiling and kernels

KERNEL_CASES = [
    # (rows, cols), patch (w, h), kernel (w, h)
    ((10, 9), (4, 4), (1, 1)),
    ((10, 9), (4, 4), (3, 3)),
    ((12, 12), (4, 4), (4, 4)),
    ((11, 13), (4, 4), (5, 5)),
    ((11, 13), (5, 3), (5, 2)),
    ((20, 18), (8, 8), (32, 32)),
    ((9, 14), (3, 5), (1, 4)),
    ((13, 6), (2, 6), (3, 1)),
    ((7, 7), (7, 7), (5, 5)),
]


@pytest.mark.parametrize(("shape", "patch", "kernel"), KERNEL_CASES)
def test_kernels_and_patches_match_reference(tf, tmp_path, shape, patch, kernel):
    image = random_band((2, *shape), np.float32)
    result = export_image(image, tmp_path / "x", patch_dimensions=patch, kernel_size=kernel, default_value=-1.5)
    th, tw = tile_shape(patch, kernel)
    if kernel[0] % 2 == 0:
        assert tw == patch[0] + kernel[0]  # the guide's [patch + kernel] for even kernels
    if kernel[1] % 2 == 0:
        assert th == patch[1] + kernel[1]
    parsed = tf_examples(
        tf,
        result.files,
        {
            "b1": tf.io.FixedLenFeature([th, tw], tf.float32),
            "b2": tf.io.FixedLenFeature([th, tw], tf.float32),
        },
    )
    expected = reference_export([Band("b1", image[0]), Band("b2", image[1])], patch=patch, kernel=kernel, default=-1.5)
    per_row, rows = shape[1] // patch[0], shape[0] // patch[1]
    assert result.total_patches == expected.total_patches == per_row * rows
    assert result.patches_written == result.records_written == per_row * rows
    assert result.patches_dropped == 0
    assert [os.path.basename(f) for f in result.files] == ["x-00000.tfrecord.gz"]
    assert_same_records(parsed, expected.records)


def test_single_band_2d_array_and_float64(tf, tmp_path):
    image = RNG.normal(size=(9, 10))  # (rows, cols), float64: written as float32
    result = export_image(image, tmp_path / "x", patch_dimensions=(5, 3), kernel_size=(2, 3))
    parsed = tf_examples(tf, result.files, {"b1": tf.io.FixedLenFeature([5, 7], tf.float32)})
    expected = reference_export([Band("b1", image.astype(np.float32))], patch=(5, 3), kernel=(2, 3))
    assert_same_records(parsed, expected.records)


# ----------------------------------------------------------------------------------------- integer bands

INT_DEFAULTS = [
    # defaultValue, expected default per band
    (-3.7, {"u8": 0, "i16": -3, "u16": 0}),
    (300.9, {"u8": 255, "i16": 300, "u16": 300}),
    (70000.5, {"u8": 255, "i16": 32767, "u16": 65535}),
    (-70000.5, {"u8": 0, "i16": -32768, "u16": 0}),
    (0.9, {"u8": 0, "i16": 0, "u16": 0}),
    (-0.9, {"u8": 0, "i16": 0, "u16": 0}),
]


def _int_image():
    shape = (8, 11)
    return {
        "u8": random_band(shape, np.uint8),
        "i16": random_band(shape, np.int16),
        "u16": random_band(shape, np.uint16),
        "f32": random_band(shape, np.float32),
    }


@pytest.mark.parametrize(("default", "per_band"), INT_DEFAULTS)
def test_integer_defaults_truncated_and_clamped(tf, tmp_path, default, per_band):
    image = _int_image()
    mask = np.zeros((8, 11), dtype=bool)
    mask[2, 3] = mask[5, 0] = True
    result = export_image(
        image, tmp_path / "x", patch_dimensions=(4, 4), kernel_size=(3, 3), default_value=default, mask=mask
    )
    spec = {name: tf.io.FixedLenFeature([6, 6], tf.float32) for name in image}
    parsed = tf_examples(tf, result.files, spec)
    for name, want in per_band.items():
        assert parsed[0][name][0, 0] == want  # the corner of the first tile lies outside the image
        assert parsed[0][name][3, 4] == want  # pixel (2, 3), masked
    assert parsed[0]["f32"][0, 0] == np.float32(default)
    bands = [Band(name, values, mask) for name, values in image.items()]
    expected = reference_export(bands, patch=(4, 4), kernel=(3, 3), default=default)
    assert_same_records(parsed, expected.records)


@pytest.mark.parametrize("default", [300.9, -3.7])
def test_native_integer_encoding(tf, tmp_path, default):
    image = _int_image()
    mask = np.zeros((8, 11), dtype=bool)
    mask[1:3, 6:9] = True
    result = export_image(
        image,
        tmp_path / "x",
        patch_dimensions=(5, 4),
        kernel_size=(3, 2),
        default_value=default,
        mask=mask,
        integer_encoding="native",
    )
    th, tw = tile_shape((5, 4), (3, 2))
    spec = {
        "u8": tf.io.FixedLenFeature([], tf.string),
        "i16": tf.io.FixedLenFeature([th, tw], tf.int64),
        "u16": tf.io.FixedLenFeature([th, tw], tf.int64),
        "f32": tf.io.FixedLenFeature([th, tw], tf.float32),
    }

    def parse(record):
        parsed = tf.io.parse_single_example(record, spec)
        parsed["u8"] = tf.reshape(tf.io.decode_raw(parsed["u8"], tf.uint8), [th, tw])
        return parsed

    dataset = tf.data.TFRecordDataset(list(result.files), compression_type="GZIP").map(parse)
    parsed = [{k: v.numpy() for k, v in p.items()} for p in dataset]
    bands = [Band(name, values, mask) for name, values in image.items()]
    expected = reference_export(bands, patch=(5, 4), kernel=(3, 2), default=default, native=True)
    assert expected.records[0]["u8"].dtype == np.uint8
    assert expected.records[0]["i16"].dtype == np.int64
    assert_same_records(parsed, expected.records)
    assert parsed[0]["u8"][0, 0] == band_default(np.uint8, default)
    assert parsed[0]["i16"][0, 0] == math.trunc(default)
    # And the protobuf says so: one bytes value for the uint8 band, an int64 list for int16.
    example = tf.train.Example.FromString(next(iter(geotfrecord.read_records(result.files[0]))))
    assert len(example.features.feature["u8"].bytes_list.value) == 1
    assert len(example.features.feature["i16"].int64_list.value) == th * tw
    assert len(example.features.feature["f32"].float_list.value) == th * tw


# -------------------------------------------------------------------------------------- masks and nodata


def test_masked_array_bool_mask_and_nodata(tf, tmp_path):
    shape = (9, 12)
    data = RNG.integers(0, 4, size=(3, *shape)).astype(np.int16)
    patch, kernel, default = (4, 3), (4, 3), -7.9
    th, tw = tile_shape(patch, kernel)
    spec = {name: tf.io.FixedLenFeature([th, tw], tf.float32) for name in ("b1", "b2", "b3")}
    ma_mask = RNG.random((3, *shape)) < 0.2
    mask2d = RNG.random(shape) < 0.2
    mask3d = RNG.random((3, *shape)) < 0.2
    cases = {
        "masked_array": (np.ma.MaskedArray(data, mask=ma_mask), {}, list(ma_mask)),
        "mask_2d": (data, {"mask": mask2d}, [mask2d] * 3),
        "mask_3d": (data, {"mask": mask3d}, list(mask3d)),
        "nodata": (data, {"nodata": 2}, list(data == 2)),
        "mask_and_nodata": (data, {"mask": mask2d, "nodata": 0}, [mask2d | (b == 0) for b in data]),
    }
    for case, (image, kwargs, masks) in cases.items():
        result = export_image(
            image, tmp_path / case, patch_dimensions=patch, kernel_size=kernel, default_value=default, **kwargs
        )
        bands = [Band(f"b{i + 1}", data[i], masks[i]) for i in range(3)]
        expected = reference_export(bands, patch=patch, kernel=kernel, default=default)
        assert any((r["b1"] == -7).any() for r in expected.records)
        assert_same_records(tf_examples(tf, result.files, spec), expected.records)


def test_float_nodata_nan_and_masked_array_agree(tmp_path):
    data = random_band((2, 8, 8), np.float32)
    data[0, 2, 2] = data[1, 5, 6] = np.nan
    a = export_image(data, tmp_path / "a", patch_dimensions=(4, 4), kernel_size=(3, 3), nodata=float("nan"))
    b = export_image(np.ma.masked_invalid(data), tmp_path / "b", patch_dimensions=(4, 4), kernel_size=(3, 3))
    assert [Path(f).read_bytes() for f in a.files] == [Path(f).read_bytes() for f in b.files]
    expected = reference_export(
        [Band("b1", data[0], np.isnan(data[0])), Band("b2", data[1], np.isnan(data[1]))], patch=(4, 4), kernel=(3, 3)
    )
    assert_same_records(decoded_examples(a.files, expected.records), expected.records)


# ---------------------------------------------------------------------------------------- array bands


def _array_image(shape=(7, 9)):
    arr = random_band((4, *shape), np.float32)
    lengths = RNG.integers(0, 5, size=shape)  # 0 … 4 valid elements
    arr16 = random_band((3, *shape), np.int16)
    scalar = random_band(shape, np.float32)
    image = {"scalar": scalar, "arr": ArrayBand(arr, lengths), "arr16": ArrayBand(arr16)}
    bands = [Band("scalar", scalar), Band("arr", arr, None, lengths), Band("arr16", arr16)]
    return image, bands


@pytest.mark.parametrize("depth", [2, 4, 6])
def test_tensor_depths_truncate_and_pad(tf, tmp_path, depth):
    image, bands = _array_image()
    mask = np.zeros((7, 9), dtype=bool)
    mask[3, 3] = True
    for band in bands:
        band.mask = mask
    depths = {"arr": depth, "arr16": 3}
    result = export_image(
        image,
        tmp_path / "x",
        patch_dimensions=(3, 3),
        kernel_size=(3, 1),
        default_value=-2.5,
        tensor_depths=depths,
        mask=mask,
    )
    th, tw = tile_shape((3, 3), (3, 1))
    spec = {
        "scalar": tf.io.FixedLenFeature([th, tw], tf.float32),
        "arr": tf.io.FixedLenFeature([depth, th, tw], tf.float32),
        "arr16": tf.io.FixedLenFeature([3, th, tw], tf.float32),
    }
    parsed = tf_examples(tf, result.files, spec)
    expected = reference_export(bands, patch=(3, 3), kernel=(3, 1), default=-2.5, tensor_depths=depths)
    assert_same_records(parsed, expected.records)
    if depth == 6:
        assert (parsed[0]["arr"][4:] == np.float32(-2.5)).all()  # padded
    assert (parsed[0]["arr16"][:, :, 0] == -2).all()  # outside the image, int16: -2.5 → -2


def test_native_uint8_array_band_is_one_bytes_value_depth_major(tf, tmp_path):
    values = RNG.integers(0, 256, size=(3, 6, 6)).astype(np.uint8)
    lengths = RNG.integers(0, 4, size=(6, 6))
    result = export_image(
        {"a": ArrayBand(values, lengths)},
        tmp_path / "x",
        patch_dimensions=(3, 3),
        kernel_size=(3, 3),
        tensor_depths={"a": 2},
        default_value=300,
        integer_encoding="native",
    )

    def parse(record):
        raw = tf.io.parse_single_example(record, {"a": tf.io.FixedLenFeature([], tf.string)})["a"]
        return tf.reshape(tf.io.decode_raw(raw, tf.uint8), [2, 5, 5])

    parsed = [{"a": t.numpy()} for t in tf.data.TFRecordDataset(list(result.files), "GZIP").map(parse)]
    expected = reference_export(
        [Band("a", values, None, lengths)],
        patch=(3, 3),
        kernel=(3, 3),
        tensor_depths={"a": 2},
        default=300,
        native=True,
    )
    assert_same_records(parsed, expected.records)


# ----------------------------------------------------------------------------------------- collapseBands


def test_collapse_bands_float(tf, tmp_path):
    image, bands = _array_image()
    depths = {"arr": 3, "arr16": 2}
    result = export_image(
        image,
        tmp_path / "x",
        patch_dimensions=(4, 3),
        kernel_size=(2, 2),
        default_value=9.5,
        tensor_depths=depths,
        collapse_bands=True,
    )
    th, tw = tile_shape((4, 3), (2, 2))
    parsed = tf_examples(tf, result.files, {"scalar": tf.io.FixedLenFeature([1 + 3 + 2, th, tw], tf.float32)})
    expected = reference_export(bands, patch=(4, 3), kernel=(2, 2), default=9.5, tensor_depths=depths, collapse=True)
    assert_same_records(parsed, expected.records)
    for data in geotfrecord.read_records(result.files[0]):
        assert list(tf.train.Example.FromString(data).features.feature) == ["scalar"]
    # int16 part, outside the image: 9.5 → 9
    assert (parsed[0]["scalar"][4:, 0, :] == 9).all()
    assert (parsed[0]["scalar"][:4, 0, :] == np.float32(9.5)).all()


@pytest.mark.parametrize(
    ("dtypes", "kind"),
    [
        (("uint8", "uint8"), "bytes"),
        (("uint8", "int16"), "int64"),
        (("int16", "uint8", "uint16"), "int64"),
        (("uint8", "int16", "float32"), "float"),
    ],
)
def test_collapse_bands_native_promotion(tf, tmp_path, dtypes, kind):
    shape = (6, 8)
    names = [f"band{i}" for i in range(len(dtypes))]
    arrays = [random_band(shape, t) for t in dtypes]
    mask = np.zeros(shape, dtype=bool)
    mask[0, 0] = True
    result = export_image(
        dict(zip(names, arrays, strict=True)),
        tmp_path / "x",
        patch_dimensions=(4, 3),
        kernel_size=(3, 3),
        default_value=-3.7,
        collapse_bands=True,
        integer_encoding="native",
        mask=mask,
    )
    th, tw = tile_shape((4, 3), (3, 3))
    depth = len(dtypes)
    if kind == "bytes":
        spec = {"band0": tf.io.FixedLenFeature([], tf.string)}
    else:
        spec = {"band0": tf.io.FixedLenFeature([depth, th, tw], tf.float32 if kind == "float" else tf.int64)}
    parsed = tf_examples(tf, result.files, spec)
    if kind == "bytes":
        parsed = [{"band0": np.frombuffer(p["band0"], np.uint8).reshape(depth, th, tw)} for p in parsed]
    bands = [Band(n, a, mask) for n, a in zip(names, arrays, strict=True)]
    expected = reference_export(bands, patch=(4, 3), kernel=(3, 3), default=-3.7, collapse=True, native=True)
    assert expected.records[0]["band0"].dtype == {"bytes": np.uint8, "int64": np.int64, "float": np.float32}[kind]
    assert_same_records(parsed, expected.records)


# ------------------------------------------------------------------------------------------ sequenceData


def test_sequence_data_scalar_bands_in_context(tf, tmp_path):
    image = {"f": random_band((6, 6), np.float32), "i": random_band((6, 6), np.int16)}
    result = export_image(
        image, tmp_path / "x", patch_dimensions=(3, 3), kernel_size=(3, 1), default_value=-1.5, sequence_data=True
    )
    th, tw = tile_shape((3, 3), (3, 1))
    assert result.records_written == 4 * th * tw
    assert result.patches_written == 4
    parsed = tf_sequence_examples(
        tf,
        result.files,
        {"f": tf.io.FixedLenFeature([1], tf.float32), "i": tf.io.FixedLenFeature([1], tf.float32)},
        {},
    )
    expected = reference_export(
        [Band(n, v) for n, v in image.items()], patch=(3, 3), kernel=(3, 1), default=-1.5, sequence=True
    )
    assert_same_sequences(parsed, expected.records)
    assert parsed[0][0]["i"].tolist() == [-1.0]
    for data in geotfrecord.read_records(result.files[0]):
        assert not tf.train.SequenceExample.FromString(data).feature_lists.feature_list


@pytest.mark.parametrize("with_depths", [True, False])
def test_sequence_data_array_bands_in_feature_lists(tf, tmp_path, with_depths):
    image, bands = _array_image((6, 6))
    depths = {"arr": 3, "arr16": 5} if with_depths else {}
    mask = np.zeros((6, 6), dtype=bool)
    mask[1, 1] = True
    for band in bands:
        band.mask = mask
    result = export_image(
        image,
        tmp_path / "x",
        patch_dimensions=(3, 2),
        kernel_size=(1, 3),
        default_value=4.25,
        tensor_depths=depths,
        sequence_data=True,
        mask=mask,
    )
    parsed = tf_sequence_examples(
        tf,
        result.files,
        {"scalar": tf.io.FixedLenFeature([1], tf.float32)},
        {
            "arr": tf.io.FixedLenSequenceFeature([], tf.float32),
            "arr16": tf.io.FixedLenSequenceFeature([], tf.float32),
        },
    )
    expected = reference_export(bands, patch=(3, 2), kernel=(1, 3), default=4.25, tensor_depths=depths, sequence=True)
    assert_same_sequences(parsed, expected.records)
    lengths = {len(lists["arr"]) for _, lists in parsed}
    assert lengths == ({3} if with_depths else {0, 1, 2, 3, 4})
    # One single-value Feature per element.
    sequence = tf.train.SequenceExample.FromString(next(iter(geotfrecord.read_records(result.files[0]))))
    steps = sequence.feature_lists.feature_list["arr16"].feature
    assert len(steps) == (5 if with_depths else 3)
    assert all(len(step.float_list.value) == 1 for step in steps)


def test_sequence_data_with_collapse_bands(tf, tmp_path):
    image, bands = _array_image((6, 6))
    depths = {"arr": 2, "arr16": 3}
    result = export_image(
        image,
        tmp_path / "x",
        patch_dimensions=(2, 3),
        kernel_size=(3, 3),
        default_value=-1,
        tensor_depths=depths,
        sequence_data=True,
        collapse_bands=True,
    )
    parsed = tf_sequence_examples(tf, result.files, {}, {"scalar": tf.io.FixedLenSequenceFeature([], tf.float32)})
    expected = reference_export(
        bands, patch=(2, 3), kernel=(3, 3), default=-1, tensor_depths=depths, sequence=True, collapse=True
    )
    assert_same_sequences(parsed, expected.records)
    assert all(lists["scalar"].shape == (1 + 2 + 3,) for _, lists in parsed)
    for data in geotfrecord.read_records(result.files[0]):
        sequence = tf.train.SequenceExample.FromString(data)
        assert not sequence.context.feature
        assert list(sequence.feature_lists.feature_list) == ["scalar"]


# --------------------------------------------------------------------------------------- maskedThreshold


def test_masked_threshold_zero_keeps_only_clean_tiles_literal(tmp_path):
    image = np.ones((1, 12, 12), dtype=np.float32)
    # kernel 3: every tile on the image's edge has buffer pixels outside it; only the centre survives.
    result = export_image(image, tmp_path / "x", patch_dimensions=(4, 4), kernel_size=(3, 3), masked_threshold=0)
    assert (result.total_patches, result.patches_written, result.patches_dropped) == (9, 1, 8)
    assert result.mixer is None
    assert listing(tmp_path) == ["x-00000.tfrecord.gz"]


def test_masked_threshold_boundary_is_inclusive(tmp_path):
    image = np.ones((1, 4, 8), dtype=np.float32)
    mask = np.zeros((4, 8), dtype=bool)
    mask[:2, :4] = True  # 8 of 16: exactly 0.5, kept
    mask[:2, 4:] = True
    mask[2, 4] = True  # 9 of 16: dropped
    result = export_image(image, tmp_path / "x", patch_dimensions=(4, 4), masked_threshold=0.5, mask=mask)
    assert (result.patches_written, result.patches_dropped) == (1, 1)


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5])
@pytest.mark.parametrize("kernel", [(1, 1), (3, 3), (4, 2)])
def test_masked_threshold_matches_reference(tf, tmp_path, threshold, kernel):
    shape = (12, 15)
    data = random_band((2, *shape), np.float32)
    masks = np.zeros((2, *shape), dtype=bool)
    masks[0, 0:5, 0:6] = True  # band 1: top-left block
    masks[1, 7:, 9:] = True  # band 2: bottom-right block
    masks[1, 5, 5] = True
    result = export_image(
        np.ma.MaskedArray(data, mask=masks),
        tmp_path / "x",
        patch_dimensions=(5, 4),
        kernel_size=kernel,
        masked_threshold=threshold,
    )
    expected = reference_export(
        [Band("b1", data[0], masks[0]), Band("b2", data[1], masks[1])],
        patch=(5, 4),
        kernel=kernel,
        threshold=threshold,
    )
    assert 0 < expected.dropped < expected.total_patches or threshold == 0
    assert result.patches_dropped == expected.dropped
    assert result.patches_written == len(expected.records) == expected.total_patches - expected.dropped
    assert result.mixer is None
    assert not any(name.endswith("mixer.json") for name in listing(tmp_path))
    if expected.records:
        assert_same_records(tf_examples(tf, result.files, float_spec(tf, expected.records[0])), expected.records)
    else:
        assert sum(1 for f in result.files for _ in geotfrecord.read_records(f)) == 0


def test_masked_threshold_one_writes_mixer_and_drops_nothing(tmp_path):
    image = np.ma.MaskedArray(np.ones((1, 8, 8), np.float32), mask=True)  # fully masked
    result = export_image(image, tmp_path / "x", patch_dimensions=(4, 4), masked_threshold=1.0)
    assert (result.patches_written, result.patches_dropped) == (4, 0)
    assert result.mixer == str(tmp_path / "x-mixer.json")
    assert listing(tmp_path) == ["x-00000.tfrecord.gz", "x-mixer.json"]


def test_masked_threshold_with_sequence_data_drops_every_pixel_of_a_tile(tmp_path):
    data = random_band((1, 6, 6), np.float32)
    mask = np.zeros((6, 6), dtype=bool)
    mask[0:3, 0:2] = True
    result = export_image(
        data, tmp_path / "x", patch_dimensions=(3, 3), sequence_data=True, masked_threshold=0.5, mask=mask
    )
    expected = reference_export([Band("b1", data[0], mask)], patch=(3, 3), sequence=True, threshold=0.5)
    assert expected.dropped == 1
    assert result.patches_dropped == 1
    assert result.records_written == 3 * 9
    assert_same_sequences(decoded_sequences(result.files), expected.records)


# --------------------------------------------------------------------------------- sharding and naming


@pytest.mark.parametrize(
    ("limit", "counts"),
    [
        (lambda framed: 1 << 30, [12]),
        (lambda framed: 3 * framed, [3, 3, 3, 3]),
        (lambda framed: 3 * framed - 1, [2] * 6),
        (lambda framed: 5 * framed + 7, [5, 5, 2]),
        (lambda framed: framed, [1] * 12),
        (lambda framed: 1, [1] * 12),  # every record larger than the limit: a file each
    ],
)
@pytest.mark.parametrize("compressed", [True, False])
def test_sharding_by_max_file_size(tf, tmp_path, limit, counts, compressed):
    image = random_band((1, 8, 24), np.float32)
    expected = reference_export([Band("b1", image[0])], patch=(4, 4), kernel=(1, 1))
    record_size = len(geotfrecord.encode_example({"b1": expected.records[0]["b1"]}))
    framed = record_size + 16
    max_file_size = limit(framed)
    result = export_image(
        image, tmp_path / "x", patch_dimensions=(4, 4), max_file_size=max_file_size, compressed=compressed
    )
    suffix = ".tfrecord.gz" if compressed else ".tfrecord"
    names = [f"x-{i:05d}{suffix}" for i in range(len(counts))]
    assert [os.path.basename(f) for f in result.files] == names
    assert listing(tmp_path) == sorted([*names, "x-mixer.json"])
    sizes = [len(r) for f in result.files for r in geotfrecord.read_records(f)]
    assert sizes == [record_size] * 12
    assert shard_sizes(sizes, max_file_size) == counts
    assert [sum(1 for _ in geotfrecord.read_records(f)) for f in result.files] == counts
    if not compressed:
        for f, n in zip(result.files, counts, strict=True):
            assert os.path.getsize(f) == n * framed
            assert os.path.getsize(f) <= max_file_size or n == 1
    else:
        assert all(Path(f).read_bytes()[:2] == b"\x1f\x8b" for f in result.files)
    # Record order is global across the files: TensorFlow reading them in name order sees the tiles row-major.
    parsed = tf_examples(tf, result.files, {"b1": tf.io.FixedLenFeature([4, 4], tf.float32)}, compressed=compressed)
    assert_same_records(parsed, expected.records)


def test_sharding_with_variable_record_sizes(tmp_path):
    values = random_band((5, 6, 6), np.float32)
    lengths = RNG.integers(0, 6, size=(6, 6))
    image = {"s": random_band((6, 6), np.int16), "a": ArrayBand(values, lengths)}
    result = export_image(image, tmp_path / "x", patch_dimensions=(3, 3), sequence_data=True, max_file_size=400)
    sizes = [len(r) for f in result.files for r in geotfrecord.read_records(f)]
    assert len(set(sizes)) > 3
    assert [sum(1 for _ in geotfrecord.read_records(f)) for f in result.files] == shard_sizes(sizes, 400)
    assert len(result.files) > 3
    expected = reference_export([Band("s", image["s"]), Band("a", values, None, lengths)], patch=(3, 3), sequence=True)
    assert_same_sequences(decoded_sequences(result.files), expected.records)


@pytest.mark.parametrize("compressed", [True, False])
def test_folder_prefix(tmp_path, compressed):
    image = random_band((1, 8, 8), np.float32)
    prefix = str(tmp_path / "out") + "/"
    result = export_image(image, prefix, patch_dimensions=(4, 4), max_file_size=100, compressed=compressed)
    suffix = ".tfrecord.gz" if compressed else ".tfrecord"
    assert listing(tmp_path) == [f"out/0000{i}{suffix}" for i in range(4)] + ["out/mixer.json"]
    assert result.mixer == prefix + "mixer.json"
    assert list(result.files) == [f"{prefix}0000{i}{suffix}" for i in range(4)]


def test_uncompressed_files_are_plain_tfrecord(tf, tmp_path):
    image = random_band((1, 6, 9), np.float32)
    result = export_image(image, tmp_path / "x", patch_dimensions=(3, 3), kernel_size=(2, 2), compressed=False)
    assert listing(tmp_path) == ["x-00000.tfrecord", "x-mixer.json"]
    assert Path(result.files[0]).read_bytes()[:2] != b"\x1f\x8b"
    expected = reference_export([Band("b1", image[0])], patch=(3, 3), kernel=(2, 2))
    parsed = tf_examples(tf, result.files, {"b1": tf.io.FixedLenFeature([5, 5], tf.float32)}, compressed=False)
    assert_same_records(parsed, expected.records)
    assert result.bytes_written == os.path.getsize(result.files[0])


@pytest.mark.parametrize("budget", [1, 3000, 1 << 40])
def test_wide_images_cut_into_column_chunks_give_the_same_records(tmp_path, monkeypatch, budget):
    """The exporter reads strips in chunks of tiles when a strip is large; the records must not change."""
    import geotfrecord.image_export as image_export

    monkeypatch.setattr(image_export, "STRIP_BUDGET", budget)
    data = random_band((2, 9, 31), np.float32)
    mask = RNG.random((9, 31)) < 0.15
    calls = []
    result = export_image(
        data,
        tmp_path / "x",
        patch_dimensions=(3, 2),
        kernel_size=(5, 2),
        masked_threshold=0.3,
        max_file_size=500,
        mask=mask,
        default_value=-1,
        progress=lambda done, total: calls.append((done, total)),
    )
    bands = [Band("b1", data[0], mask), Band("b2", data[1], mask)]
    expected = reference_export(bands, patch=(3, 2), kernel=(5, 2), threshold=0.3, default=-1)
    assert 0 < expected.dropped < expected.total_patches
    assert result.patches_dropped == expected.dropped
    assert_same_records(decoded_examples(result.files, expected.records), expected.records)
    assert calls[-1] == (40, 40)
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    if budget == 1:
        assert len(calls) == 40  # one tile per step


# ---------------------------------------------------------------------------------------------- the mixer


def _write_geotiff(path, data, *, crs, transform, nodata=None, descriptions=None):
    import rasterio

    profile = {
        "driver": "GTiff",
        "height": data.shape[1],
        "width": data.shape[2],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform,
    }
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if descriptions:
            dst.descriptions = tuple(descriptions)
    return path


def test_mixer_reproduces_a_real_earth_engine_mixer(tmp_path):
    from rasterio.transform import Affine

    scale = 8.983152841195215e-4
    transform = Affine(scale, 0.0, 13.599595086285436, 0.0, -scale, 45.40175277468474)
    # 5 patches per row, 2 rows; the extra pixels on the right and bottom are dropped.
    path = _write_geotiff(
        tmp_path / "scene.tif", np.zeros((1, 600, 1300), np.uint8), crs="EPSG:4326", transform=transform
    )
    out = tmp_path / "out"
    out.mkdir()
    result = export_image(str(path), out / "scene", patch_dimensions=(256, 256), kernel_size=(1, 1))
    assert (result.total_patches, result.patches_written) == (10, 10)
    with open(result.mixer, encoding="utf-8") as f:
        assert f.read() == EE_MIXER
    assert geotfrecord.Mixer.load(result.mixer).to_json() == EE_MIXER


def test_mixer_south_up_transform_and_crs_from_geotiff(tmp_path):
    from rasterio.transform import Affine

    path = _write_geotiff(
        tmp_path / "south_up.tif",
        random_band((1, 9, 10), np.float32),
        crs="EPSG:32733",
        transform=Affine(30.0, 0.0, 500000.0, 0.0, 2.5e-4, 10000000.0),
    )
    result = export_image(str(path), tmp_path / "x", patch_dimensions=(3, 4), kernel_size=(4, 4))
    with open(result.mixer, encoding="utf-8") as f:
        text = f.read()
    assert text == (
        "{\n"
        '  "projection": {\n'
        '    "crs": "EPSG:32733",\n'
        '    "affine": {\n'
        '      "doubleMatrix": [30.0, 0.0, 500000.0, 0.0, 2.5E-4, 1.0E7]\n'
        "    }\n"
        "  },\n"
        '  "patchDimensions": [3, 4],\n'
        '  "patchesPerRow": 3,\n'
        '  "totalPatches": 6\n'
        "}"
    )


def test_mixer_for_numpy_with_crs_and_transform(tmp_path):
    from rasterio.transform import Affine

    result = export_image(
        random_band((1, 10, 10), np.float32),
        tmp_path / "x",
        patch_dimensions=(5, 2),
        crs="EPSG:3857",
        transform=Affine(0.5, 0.0, -10.25, 0.0, 0.25, -20.0),  # south-up
    )
    with open(result.mixer, encoding="utf-8") as f:
        text = f.read()
    assert '      "doubleMatrix": [0.5, 0.0, -10.25, 0.0, 0.25, -20.0]\n' in text
    assert '    "crs": "EPSG:3857",\n' in text
    assert text.endswith('  "patchDimensions": [5, 2],\n  "patchesPerRow": 2,\n  "totalPatches": 10\n}')


# ---------------------------------------------------------------------------------- other image sources


def _bytes_of(result):
    out = [Path(f).read_bytes() for f in result.files]
    if result.mixer:
        out.append(Path(result.mixer).read_bytes())
    return out


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # rioxarray on affine >= 2.4
@pytest.mark.parametrize("encoding", ["float", "native"])
def test_geotiff_and_xarray_inputs_match_numpy(tf, tmp_path, encoding):
    import rasterio
    import rioxarray
    from rasterio.transform import Affine

    data = RNG.integers(-100, 100, size=(3, 11, 14)).astype(np.int16)
    data[:, :2, :3] = -9999  # nodata in every band
    data[1, 5, 5] = -9999  # and in one band only
    names = ["B2", "B3", "B4"]
    crs, transform = "EPSG:32633", Affine(30.0, 0.0, 500010.0, 0.0, -30.0, 4500020.0)
    path = _write_geotiff(tmp_path / "in.tif", data, crs=crs, transform=transform, nodata=-9999, descriptions=names)
    options = {
        "patch_dimensions": (4, 3),
        "kernel_size": (3, 4),
        "default_value": 12.7,
        "max_file_size": 700,
        "integer_encoding": encoding,
    }
    from_numpy = export_image(
        data, tmp_path / "numpy", band_names=names, nodata=-9999, crs=crs, transform=transform, **options
    )
    from_path = export_image(str(path), tmp_path / "path", **options)
    with rasterio.open(path) as dataset:
        from_dataset = export_image(dataset, tmp_path / "dataset", **options)
    with rioxarray.open_rasterio(path) as array:
        from_xarray = export_image(array, tmp_path / "xarray", **options)
    assert len(from_numpy.files) > 1
    reference_bytes = _bytes_of(from_numpy)
    for other in (from_path, from_dataset, from_xarray):
        assert _bytes_of(other) == reference_bytes
    bands = [Band(n, data[i], data[i] == -9999) for i, n in enumerate(names)]
    expected = reference_export(bands, patch=(4, 3), kernel=(3, 4), default=12.7, native=encoding == "native")
    th, tw = tile_shape((4, 3), (3, 4))
    dtype = tf.float32 if encoding == "float" else tf.int64
    parsed = tf_examples(tf, from_path.files, {n: tf.io.FixedLenFeature([th, tw], dtype) for n in names})
    assert_same_records(parsed, expected.records)
    assert parsed[0]["B2"][0, 0] == 12  # int16 default


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_in_memory_dataarray_matches_numpy_masked_array(tmp_path):
    import rioxarray  # noqa: F401  (registers .rio)
    import xarray as xr
    from rasterio.transform import Affine

    data = random_band((2, 8, 10), np.float32)
    data[0, 1, 1] = data[1, 6, 2] = np.nan
    transform = Affine(0.1, 0.0, 5.0, 0.0, -0.1, 50.0)
    array = xr.DataArray(data, dims=("band", "y", "x"), coords={"band": ["red", "nir"]})
    array = array.rio.write_crs("EPSG:4326").rio.write_transform(transform)
    options = {"patch_dimensions": (5, 4), "kernel_size": (2, 2), "default_value": -1}
    from_xarray = export_image(array, tmp_path / "xa", **options)
    from_numpy = export_image(
        np.ma.masked_invalid(data),
        tmp_path / "np",
        band_names=["red", "nir"],
        crs="EPSG:4326",
        transform=transform,
        **options,
    )
    assert _bytes_of(from_xarray) == _bytes_of(from_numpy)
    expected = reference_export(
        [Band("red", data[0], np.isnan(data[0])), Band("nir", data[1], np.isnan(data[1]))],
        patch=(5, 4),
        kernel=(2, 2),
        default=-1,
    )
    assert_same_records(decoded_examples(from_xarray.files, expected.records), expected.records)


def test_bands_selects_and_orders(tmp_path):
    data = random_band((3, 6, 6), np.float32)
    result = export_image(
        data, tmp_path / "x", band_names=["r", "g", "b"], bands=["b", "r"], patch_dimensions=(3, 3), collapse_bands=True
    )
    expected = reference_export([Band("b", data[2]), Band("r", data[0])], patch=(3, 3), collapse=True)
    assert_same_records(decoded_examples(result.files, expected.records), expected.records)


# ---------------------------------------------------------------------------------- option spellings


SPELLING_CASES = [
    (
        {"patch_dimensions": (4, 3), "kernel_size": (3, 2), "max_file_size": 300, "default_value": -2.5},
        {"patchDimensions": [4, 3], "kernelSize": [3, 2], "maxFileSize": 300, "defaultValue": -2.5},
        [
            {
                "tileDimensions": {"width": 4, "height": 3},
                "marginDimensions": {"width": 3, "height": 2},
                "maxSizeBytes": "300",
                "defaultValue": -2.5,
            },
            {
                "tileDimensions": {"width": 4, "height": 3},
                "marginDimensions": {"width": 3, "height": 2},
                "maxSizeBytes": {"value": "300"},
                "defaultValue": -2.5,
            },
            {
                "tileDimensions": {"width": 4, "height": 3},
                "marginDimensions": {"width": 3, "height": 2},
                "maxSizeBytes": 300,
                "defaultValue": -2.5,
                "maxMaskedRatio": {"value": 1},
            },
        ],
    ),
    (
        {
            "patch_dimensions": (3, 3),
            "kernel_size": (2, 2),
            "compressed": False,
            "masked_threshold": 0.5,
            "tensor_depths": {"arr": 2, "arr16": 4},
            "collapse_bands": True,
            "integer_encoding": "native",
        },
        {
            "patchDimensions": [3, 3],
            "kernelSize": [2, 2],
            "compressed": False,
            "maskedThreshold": 0.5,
            "tensorDepths": {"arr": 2, "arr16": 4},
            "collapseBands": True,
            "integerEncoding": "native",
        },
        [
            {
                "tileDimensions": {"width": 3, "height": 3},
                "marginDimensions": {"width": 2, "height": 2},
                "compress": False,
                "maxMaskedRatio": {"value": 0.5},
                "tensorDepths": {"arr": 2, "arr16": 4},
                "collapseBands": True,
                "integerEncoding": "native",
            },
            {
                "tileDimensions": {"width": 3, "height": 3},
                "marginDimensions": {"width": 2, "height": 2},
                "compress": False,
                "maxMaskedRatio": 0.5,
                "maxSizeBytes": {"value": 1 << 30},
                "tensorDepths": {"arr": 2, "arr16": 4},
                "collapseBands": True,
                "integerEncoding": "native",
            },
        ],
    ),
    (
        {"patch_dimensions": (2, 2), "sequence_data": True, "tensor_depths": {"arr": 3}, "default_value": 1},
        {"patchDimensions": [2, 2], "sequenceData": True, "tensorDepths": {"arr": 3}, "defaultValue": 1},
        [
            {
                "tileDimensions": {"width": 2, "height": 2},
                "sequenceData": True,
                "tensorDepths": {"arr": 3},
                "defaultValue": 1,
            }
        ],
    ),
]


@pytest.mark.parametrize(("keywords", "ee_batch", "rest_forms"), SPELLING_CASES)
def test_option_spellings_write_identical_bytes(tmp_path, keywords, ee_batch, rest_forms):
    image, _ = _array_image((7, 9))
    mask = np.zeros((7, 9), dtype=bool)
    mask[:3, :4] = True
    if "sequence_data" in keywords:
        image = {"scalar": image["scalar"], "arr": image["arr"]}
    elif "tensor_depths" not in keywords:
        image = {"scalar": image["scalar"], "u8": random_band((7, 9), np.uint8)}
    baseline = export_image(image, tmp_path / "kw" / "x", mask=mask, **keywords)
    assert baseline.files
    want = _bytes_of(baseline)
    for i, form in enumerate([ee_batch, *rest_forms]):
        other = export_image(image, tmp_path / f"fo{i}" / "x", mask=mask, format_options=form)
        assert other.options == baseline.options
        assert [os.path.basename(f) for f in other.files] == [os.path.basename(f) for f in baseline.files]
        assert _bytes_of(other) == want, form
    assert (baseline.mixer is None) == (keywords.get("masked_threshold", 1.0) != 1.0)


# ----------------------------------------------------------------------------------- property test

DTYPES = ["float32", "int16", "uint8", "uint16", "int8", "int32", "uint32", "float64"]


@st.composite
def export_cases(draw):
    rows, cols = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    case = {
        "rows": rows,
        "cols": cols,
        "patch": (draw(st.integers(1, cols)), draw(st.integers(1, rows))),
        "kernel": (draw(st.integers(1, 6)), draw(st.integers(1, 6))),
        "dtypes": draw(st.lists(st.sampled_from(DTYPES), min_size=1, max_size=3)),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "mask": draw(st.sampled_from(["none", "masked_array", "mask_2d", "mask_3d", "nodata"])),
        "default": draw(
            st.one_of(
                st.sampled_from([0.0, -3.7, 300.9, 1e6, -1e6, 65535.5]),
                st.floats(-1000, 1000, allow_nan=False),
            )
        ),
        "threshold": draw(st.one_of(st.sampled_from([1.0, 0.0, 0.5]), st.floats(0, 1))),
        "max_file_size": draw(st.sampled_from([1 << 30, 1, 150, 600])),
        "compressed": draw(st.booleans()),
        "array": draw(st.sampled_from([None, "fixed", "variable"])),
        "sequence": draw(st.booleans()),
        "collapse": draw(st.booleans()),
    }
    case["array_depth"] = draw(st.integers(1, 4))
    case["tensor_depth"] = draw(st.integers(1, 5))
    case["native"] = draw(st.booleans()) and not case["sequence"]
    if case["array"] is not None and case["mask"] in ("masked_array", "nodata"):
        case["mask"] = "mask_2d"
    if case["array"] == "variable" and not case["sequence"]:
        case["array"] = "fixed"
    if case["collapse"] and case["array"] == "variable":
        case["array"] = "fixed"
    return case


def _build(case):
    rng = np.random.default_rng(case["seed"])
    shape = (case["rows"], case["cols"])
    nb = len(case["dtypes"])
    image, bands, kwargs = {}, [], {}
    masks = [None] * nb
    if case["mask"] == "mask_2d":
        m = rng.random(shape) < 0.3
        kwargs["mask"], masks = m, [m] * (nb + 1)
    elif case["mask"] == "mask_3d":
        m = rng.random((nb + (case["array"] is not None), *shape)) < 0.3
        kwargs["mask"], masks = m, list(m)
    for i, dtype in enumerate(case["dtypes"]):
        name = f"band{i}"
        if case["mask"] == "nodata":
            values = rng.integers(0, 4, size=shape).astype(dtype)
            kwargs["nodata"] = 1
            masks[i] = values == 1
        else:
            values = random_band(shape, dtype, rng)
        if case["mask"] == "masked_array":
            masks[i] = rng.random(shape) < 0.3
            image[name] = np.ma.MaskedArray(values, mask=masks[i])
        else:
            image[name] = values
        bands.append(Band(name, values, masks[i]))
    depths = {}
    if case["array"] is not None:
        d = case["array_depth"]
        values = random_band((d, *shape), rng.choice(DTYPES), rng)
        lengths = rng.integers(0, d + 1, size=shape)
        image["arr"] = ArrayBand(values, lengths)
        bands.append(Band("arr", values, masks[nb] if len(masks) > nb else None, lengths))
        if case["array"] == "fixed":
            depths["arr"] = case["tensor_depth"]
    return image, bands, depths, kwargs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(export_cases())
def test_export_matches_reference_property(tmp_path_factory, case):
    image, bands, depths, kwargs = _build(case)
    out = tmp_path_factory.mktemp("export")
    result = export_image(
        image,
        out / "x",
        patch_dimensions=case["patch"],
        kernel_size=case["kernel"],
        default_value=case["default"],
        masked_threshold=case["threshold"],
        max_file_size=case["max_file_size"],
        compressed=case["compressed"],
        tensor_depths=depths,
        sequence_data=case["sequence"],
        collapse_bands=case["collapse"],
        integer_encoding="native" if case["native"] else "float",
        **kwargs,
    )
    expected = reference_export(
        bands,
        patch=case["patch"],
        kernel=case["kernel"],
        default=case["default"],
        tensor_depths=depths,
        sequence=case["sequence"],
        collapse=case["collapse"],
        threshold=case["threshold"],
        native=case["native"],
    )
    assert result.total_patches == expected.total_patches
    assert result.patches_dropped == expected.dropped
    assert result.patches_written == expected.total_patches - expected.dropped
    assert result.records_written == len(expected.records)
    if case["sequence"]:
        assert_same_sequences(decoded_sequences(result.files), expected.records)
    else:
        assert_same_records(decoded_examples(result.files, expected.records), expected.records)
    sizes = [len(r) for f in result.files for r in geotfrecord.read_records(f)]
    assert [sum(1 for _ in geotfrecord.read_records(f)) for f in result.files] == shard_sizes(
        sizes, case["max_file_size"]
    )
    suffix = ".tfrecord.gz" if case["compressed"] else ".tfrecord"
    names = [f"x-{i:05d}{suffix}" for i in range(len(result.files))]
    mixer = ["x-mixer.json"] if case["threshold"] == 1.0 else []
    assert listing(out) == sorted(names + mixer)
    if mixer:
        with open(result.mixer, encoding="utf-8") as f:
            text = f.read()
        per_row = expected.patches_per_row
        assert re.search(rf'"patchesPerRow": {per_row},\n  "totalPatches": {expected.total_patches}\n}}$', text)
