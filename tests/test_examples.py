"""Example / SequenceExample encoding checked against TensorFlow's own parser, both ways."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import geotfrecord
from geotfrecord import decode_example, decode_sequence_example, encode_example, encode_sequence_example

INT64_EXTREMES = np.array([0, 1, -1, 127, 128, -128, 2**31, -(2**31), 2**63 - 1, -(2**63)], dtype=np.int64)


def test_tensorflow_parses_our_example(tf):
    floats = np.random.default_rng(0).normal(size=(5, 7)).astype(np.float32)
    data = encode_example(
        {
            "patch": floats,
            "ints": INT64_EXTREMES,
            "label": [3],
            "names": [b"a", b"", b"\x00\xff"],
            "empty": np.zeros(0, dtype=np.float32),
        }
    )
    parsed = tf.io.parse_single_example(
        data,
        {
            "patch": tf.io.FixedLenFeature([5, 7], tf.float32),
            "ints": tf.io.FixedLenFeature([len(INT64_EXTREMES)], tf.int64),
            "label": tf.io.FixedLenFeature([1], tf.int64),
            "names": tf.io.FixedLenFeature([3], tf.string),
            "empty": tf.io.VarLenFeature(tf.float32),
        },
    )
    np.testing.assert_array_equal(parsed["patch"].numpy(), floats)
    np.testing.assert_array_equal(parsed["ints"].numpy(), INT64_EXTREMES)
    assert parsed["label"].numpy().tolist() == [3]
    assert parsed["names"].numpy().tolist() == [b"a", b"", b"\x00\xff"]
    assert parsed["empty"].values.numpy().size == 0
    # And the protobuf library agrees field by field.
    example = tf.train.Example.FromString(data)
    assert list(example.features.feature["ints"].int64_list.value) == INT64_EXTREMES.tolist()


def test_special_floats_survive_bit_exactly(tf):
    values = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4028235e38], dtype=np.float32)
    parsed = tf.io.parse_single_example(encode_example({"v": values}), {"v": tf.io.FixedLenFeature([6], tf.float32)})
    assert parsed["v"].numpy().tobytes() == values.tobytes()
    assert decode_example(encode_example({"v": values}))["v"].tobytes() == values.tobytes()


def test_we_decode_tensorflow_examples(tf):
    example = tf.train.Example(
        features=tf.train.Features(
            feature={
                "f": tf.train.Feature(float_list=tf.train.FloatList(value=[1.5, -2.25])),
                "i": tf.train.Feature(int64_list=tf.train.Int64List(value=INT64_EXTREMES.tolist())),
                "b": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x", b"yz"])),
                "none": tf.train.Feature(),
            }
        )
    )
    decoded = decode_example(example.SerializeToString())
    assert decoded["f"].dtype == np.float32
    assert decoded["f"].tolist() == [1.5, -2.25]
    assert decoded["i"].dtype == np.int64
    assert decoded["i"].tolist() == INT64_EXTREMES.tolist()
    assert decoded["b"] == [b"x", b"yz"]
    assert decoded["none"].size == 0


def test_unpacked_repeated_fields_and_unknown_fields():
    # FloatList with unpacked fixed32 values, Int64List with unpacked varints, plus an unknown field.
    float_list = b"\x0d" + np.float32(1.5).tobytes() + b"\x0d" + np.float32(-2).tobytes()
    int_list = b"\x08\x05" + b"\x08" + b"\xff" * 9 + b"\x01"

    def entry(key: bytes, feature: bytes) -> bytes:
        body = b"\x0a" + bytes([len(key)]) + key + b"\x12" + bytes([len(feature)]) + feature
        return b"\x0a" + bytes([len(body)]) + body

    feature_f = b"\x12" + bytes([len(float_list)]) + float_list
    feature_i = b"\x1a" + bytes([len(int_list)]) + int_list
    features = entry(b"f", feature_f) + entry(b"i", feature_i) + b"\x78\x01"  # field 15 varint: unknown
    data = b"\x0a" + bytes([len(features)]) + features
    decoded = decode_example(data)
    assert decoded["f"].tolist() == [1.5, -2.0]
    assert decoded["i"].tolist() == [5, -1]


def test_repeated_key_last_wins_and_split_features_merge():
    first = encode_example({"a": [1.0], "b": [2.0]})
    second = encode_example({"a": [9], "c": [b"z"]})
    decoded = decode_example(first + second)  # concatenated messages merge, as protobuf specifies
    assert decoded["a"].tolist() == [9]
    assert decoded["b"].tolist() == [2.0]
    assert decoded["c"] == [b"z"]


@pytest.mark.parametrize(
    "bad",
    [
        b"\x0a",
        b"\x0a\x05\x0a",
        b"\x0a\x03\x0a\x01",
        b"\x0a\x07\x0a\x05\x12\x03\x12\x01\x0a",
        b"\x0b",
        b"\x0a\xff",
    ],
)
def test_malformed_examples_raise_value_error(bad):
    with pytest.raises(ValueError, match="malformed"):
        decode_example(bad)


def test_type_inference_and_errors():
    decoded = decode_example(
        encode_example({"f64": np.arange(3.0), "u8": np.arange(3, dtype=np.uint8), "bool": [True], "s": "é", "x": 2.5})
    )
    assert decoded["f64"].dtype == np.float32
    assert decoded["u8"].dtype == np.int64
    assert decoded["bool"].tolist() == [1]
    assert decoded["s"] == ["é".encode()]
    assert decoded["x"].tolist() == [2.5]
    with pytest.raises(ValueError, match="'big'"):
        encode_example({"big": np.array([2**64 - 1], dtype=np.uint64)})
    with pytest.raises(TypeError, match="'obj'"):
        encode_example({"obj": [object()]})
    with pytest.raises(TypeError, match="mapping"):
        encode_example([("a", 1)])


feature_values = st.one_of(
    hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=3, max_side=6), elements=st.floats(width=32)),
    hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=2, max_side=6)),
    st.lists(st.binary(max_size=20), min_size=1, max_size=4),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=8), feature_values, max_size=5))
def test_round_trip_property(features):
    decoded = decode_example(encode_example(features))
    assert list(decoded) == list(features)
    for name, value in features.items():
        if isinstance(value, list):
            assert decoded[name] == value
        else:
            assert decoded[name].tobytes() == np.ascontiguousarray(value).reshape(-1).tobytes()


def test_tensorflow_parses_our_sequence_example(tf):
    data = encode_sequence_example(
        {"elevation": [120.5], "id": [7]},
        {"ndvi": [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], "cls": [[1], [2], [-3]]},
    )
    context, lists = tf.io.parse_single_sequence_example(
        data,
        context_features={
            "elevation": tf.io.FixedLenFeature([1], tf.float32),
            "id": tf.io.FixedLenFeature([1], tf.int64),
        },
        sequence_features={
            "ndvi": tf.io.FixedLenSequenceFeature([2], tf.float32),
            "cls": tf.io.FixedLenSequenceFeature([1], tf.int64),
        },
    )
    assert context["elevation"].numpy().tolist() == [120.5]
    assert context["id"].numpy().tolist() == [7]
    np.testing.assert_allclose(lists["ndvi"].numpy(), np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]], np.float32))
    assert lists["cls"].numpy().ravel().tolist() == [1, 2, -3]


def test_we_decode_tensorflow_sequence_examples(tf):
    seq = tf.train.SequenceExample()
    seq.context.feature["b"].float_list.value.extend([4.0])
    for v in (1, 2, 3):
        seq.feature_lists.feature_list["t"].feature.add().int64_list.value.append(v)
    context, lists = decode_sequence_example(seq.SerializeToString())
    assert context["b"].tolist() == [4.0]
    assert [a.tolist() for a in lists["t"]] == [[1], [2], [3]]


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.text(max_size=5),
        hnp.arrays(np.float32, st.integers(0, 4), elements=st.floats(width=32)),
        max_size=3,
    ),
    st.dictionaries(st.text(max_size=5), st.lists(hnp.arrays(np.int64, st.integers(0, 3)), max_size=4), max_size=3),
)
def test_sequence_round_trip_property(context, lists):
    got_context, got_lists = decode_sequence_example(encode_sequence_example(context, lists))
    assert {k: v.tobytes() for k, v in got_context.items()} == {k: v.tobytes() for k, v in context.items()}
    assert {k: [a.tolist() for a in v] for k, v in got_lists.items()} == {
        k: [a.tolist() for a in v] for k, v in lists.items()
    }


def test_public_api_is_listed():
    for name in geotfrecord.__all__:
        assert hasattr(geotfrecord, name), name
