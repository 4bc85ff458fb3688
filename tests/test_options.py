"""Export options: both Earth Engine spellings, and every invalid value rejected by name, writing nothing."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

import geotfrecord
from geotfrecord import ArrayBand, OptionsError, TFRecordOptions, export_image

# ------------------------------------------------------------------------------------------ spellings


def test_three_spellings_are_the_same_options():
    keywords = TFRecordOptions(
        patch_dimensions=(256, 128),
        kernel_size=(32, 31),
        compressed=False,
        max_file_size=123456789,
        default_value=-3.5,
        tensor_depths={"a": 4},
        sequence_data=True,
        collapse_bands=False,
        masked_threshold=0.25,
    )
    ee_batch = TFRecordOptions.from_format_options(
        {
            "patchDimensions": [256, 128],
            "kernelSize": [32, 31],
            "compressed": False,
            "maxFileSize": 123456789,
            "defaultValue": -3.5,
            "tensorDepths": {"a": 4},
            "sequenceData": True,
            "collapseBands": False,
            "maskedThreshold": 0.25,
        }
    )
    rest = {
        "tileDimensions": {"width": 256, "height": 128},
        "marginDimensions": {"width": 32, "height": 31},  # the kernel size itself, not half of it
        "compress": False,
        "maxSizeBytes": "123456789",
        "defaultValue": -3.5,
        "tensorDepths": {"a": 4},
        "sequenceData": True,
        "collapseBands": False,
        "maxMaskedRatio": {"value": 0.25},
    }
    assert keywords == ee_batch == TFRecordOptions.from_rest(rest) == TFRecordOptions.from_any(rest)
    assert TFRecordOptions.from_any(ee_batch.to_format_options()) == keywords
    assert TFRecordOptions.from_any(keywords.to_rest()) == keywords
    assert keywords.margin == (16, 15)
    assert keywords.tile_dimensions == (256 + 32, 128 + 30)


@pytest.mark.parametrize("value", ["1000", " 1000", 1000, 1000.0, {"value": "1000"}, {"value": 1000}])
def test_max_size_bytes_forms(value):
    options = TFRecordOptions.from_rest({"tileDimensions": {"width": 8, "height": 8}, "maxSizeBytes": value})
    assert options.max_file_size == 1000


@pytest.mark.parametrize("value", [0.5, {"value": 0.5}, {"value": 1 / 2}])
def test_max_masked_ratio_forms(value):
    options = TFRecordOptions.from_rest({"tileDimensions": {"width": 8, "height": 8}, "maxMaskedRatio": value})
    assert options.masked_threshold == 0.5


def test_defaults():
    options = TFRecordOptions.from_format_options({"patchDimensions": [16, 16]})
    assert options.kernel_size == (1, 1)
    assert options.tile_dimensions == (16, 16)
    assert options.compressed is True
    assert options.max_file_size == 1 << 30
    assert options.default_value == 0
    assert dict(options.tensor_depths) == {}
    assert (options.sequence_data, options.collapse_bands) == (False, False)
    assert options.masked_threshold == 1.0
    assert options.integer_encoding == "float"


# ---------------------------------------------------------------------------------------- invalid values

IMAGE = {
    "a": np.zeros((8, 8), np.float32),
    "b": np.zeros((8, 8), np.int16),
}
ARRAY_IMAGE = {"a": np.zeros((8, 8), np.float32), "arr": ArrayBand(np.zeros((3, 8, 8), np.float32))}
REST_TILE = {"width": 4, "height": 4}

# (id, image, export_image keyword arguments, field named, text the message must contain)
INVALID = [
    # unknown keys, with a suggestion
    ("unknown-ee-key", IMAGE, {"format_options": {"patchDimension": [4, 4]}}, "patchDimension", "'patchDimensions'"),
    (
        "unknown-ee-key-2",
        IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "kernalSize": [3, 3]}},
        "kernalSize",
        "'kernelSize'",
    ),
    (
        "unknown-rest-key",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxMaskRatio": 0.5}},
        "maxMaskRatio",
        "'maxMaskedRatio'",
    ),
    (
        "unknown-grid-key",
        IMAGE,
        {"format_options": {"tileDimensions": {"width": 4, "hieght": 4}}},
        "tileDimensions.hieght",
        "'height'",
    ),
    (
        "mixed-spellings",
        IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "tileDimensions": REST_TILE}},
        "tileDimensions",
        "",
    ),
    ("options-twice", IMAGE, {"format_options": {"patchDimensions": [4, 4]}, "kernel_size": (3, 3)}, "kernel_size", ""),
    ("format-options-not-object", IMAGE, {"format_options": [4, 4]}, "formatOptions", ""),
    # dimensions
    ("missing-patch", IMAGE, {}, "patchDimensions", "required"),
    ("missing-patch-ee", IMAGE, {"format_options": {"kernelSize": [3, 3]}}, "patchDimensions", "required"),
    ("missing-tile-rest", IMAGE, {"format_options": {"compress": True}}, "tileDimensions", "required"),
    ("zero-patch-width", IMAGE, {"patch_dimensions": (0, 4)}, "patchDimensions[0]", "positive"),
    ("negative-patch-height", IMAGE, {"patch_dimensions": (4, -1)}, "patchDimensions[1]", "positive"),
    ("zero-kernel", IMAGE, {"patch_dimensions": (4, 4), "kernel_size": (0, 1)}, "kernelSize[0]", "positive"),
    ("float-patch", IMAGE, {"patch_dimensions": (4.0, 4)}, "patchDimensions[0]", ""),
    ("bool-patch", IMAGE, {"patch_dimensions": (True, 4)}, "patchDimensions[0]", ""),
    ("one-number-patch", IMAGE, {"format_options": {"patchDimensions": [4]}}, "patchDimensions", ""),
    ("string-patch", IMAGE, {"format_options": {"patchDimensions": "44"}}, "patchDimensions", ""),
    (
        "rest-zero-width",
        IMAGE,
        {"format_options": {"tileDimensions": {"width": 0, "height": 4}}},
        "tileDimensions.width",
        "positive",
    ),
    (
        "rest-margin-zero-height",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "marginDimensions": {"width": 3, "height": 0}}},
        "marginDimensions.height",
        "positive",
    ),
    (
        "rest-margin-list",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "marginDimensions": [3, 3]}},
        "marginDimensions",
        "",
    ),
    (
        "rest-missing-height",
        IMAGE,
        {"format_options": {"tileDimensions": {"width": 4}}},
        "tileDimensions.height",
        "required",
    ),
    ("patch-wider-than-image", IMAGE, {"patch_dimensions": (9, 4)}, "patchDimensions", ""),
    ("patch-taller-than-image", IMAGE, {"patch_dimensions": (4, 9)}, "patchDimensions", ""),
    # booleans
    ("compressed-string", IMAGE, {"patch_dimensions": (4, 4), "compressed": "yes"}, "compressed", ""),
    ("compress-int", IMAGE, {"format_options": {"tileDimensions": REST_TILE, "compress": 1}}, "compress", ""),
    ("sequence-int", IMAGE, {"patch_dimensions": (4, 4), "sequence_data": 1}, "sequenceData", ""),
    (
        "collapse-string",
        IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "collapseBands": "false"}},
        "collapseBands",
        "",
    ),
    # numbers
    ("default-string", IMAGE, {"patch_dimensions": (4, 4), "default_value": "0"}, "defaultValue", "number"),
    (
        "default-null",
        IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "defaultValue": None}},
        "defaultValue",
        "number",
    ),
    ("default-nan-int-band", IMAGE, {"patch_dimensions": (4, 4), "default_value": math.nan}, "defaultValue", ""),
    ("threshold-above-one", IMAGE, {"patch_dimensions": (4, 4), "masked_threshold": 1.5}, "maskedThreshold", ""),
    ("threshold-negative", IMAGE, {"patch_dimensions": (4, 4), "masked_threshold": -0.1}, "maskedThreshold", ""),
    ("threshold-nan", IMAGE, {"patch_dimensions": (4, 4), "masked_threshold": math.nan}, "maskedThreshold", ""),
    (
        "threshold-string",
        IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "maskedThreshold": "0.5"}},
        "maskedThreshold",
        "",
    ),
    (
        "ratio-above-one",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxMaskedRatio": {"value": 1.01}}},
        "maxMaskedRatio",
        "",
    ),
    (
        "ratio-string",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxMaskedRatio": "0.5"}},
        "maxMaskedRatio",
        "",
    ),
    ("file-size-zero", IMAGE, {"patch_dimensions": (4, 4), "max_file_size": 0}, "maxFileSize", ""),
    ("file-size-negative", IMAGE, {"patch_dimensions": (4, 4), "max_file_size": -5}, "maxFileSize", ""),
    ("file-size-fraction", IMAGE, {"patch_dimensions": (4, 4), "max_file_size": 1.5}, "maxFileSize", ""),
    (
        "file-size-string-ee",
        IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "maxFileSize": "abc"}},
        "maxFileSize",
        "",
    ),
    (
        "size-bytes-word",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxSizeBytes": "abc"}},
        "maxSizeBytes",
        "",
    ),
    (
        "size-bytes-exponent",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxSizeBytes": "1e6"}},
        "maxSizeBytes",
        "",
    ),
    (
        "size-bytes-wrapped-word",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxSizeBytes": {"value": "x"}}},
        "maxSizeBytes",
        "",
    ),
    (
        "size-bytes-zero",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxSizeBytes": "0"}},
        "maxSizeBytes",
        "",
    ),
    (
        "size-bytes-bool",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxSizeBytes": True}},
        "maxSizeBytes",
        "",
    ),
    (
        "size-bytes-wrong-wrapper",
        IMAGE,
        {"format_options": {"tileDimensions": REST_TILE, "maxSizeBytes": {"val": 5}}},
        "maxSizeBytes.val",
        "'value'",
    ),
    ("encoding", IMAGE, {"patch_dimensions": (4, 4), "integer_encoding": "raw"}, "integerEncoding", ""),
    ("gzip-level", IMAGE, {"patch_dimensions": (4, 4), "gzip_level": 11}, "gzip_level", ""),
    # bands and tensorDepths
    ("array-band-without-depth", ARRAY_IMAGE, {"patch_dimensions": (4, 4)}, "tensorDepths.arr", "required"),
    (
        "array-band-collapse-sequence-without-depth",
        ARRAY_IMAGE,
        {"patch_dimensions": (4, 4), "sequence_data": True, "collapse_bands": True},
        "tensorDepths.arr",
        "required",
    ),
    (
        "tensor-depths-missing-band",
        ARRAY_IMAGE,
        {"patch_dimensions": (4, 4), "tensor_depths": {"arr": 2, "nope": 3}},
        "tensorDepths.nope",
        "",
    ),
    (
        "tensor-depths-scalar-band",
        ARRAY_IMAGE,
        {"patch_dimensions": (4, 4), "tensor_depths": {"arr": 2, "a": 3}},
        "tensorDepths.a",
        "not an array band",
    ),
    (
        "tensor-depths-zero",
        ARRAY_IMAGE,
        {"patch_dimensions": (4, 4), "tensor_depths": {"arr": 0}},
        "tensorDepths.arr",
        "",
    ),
    (
        "tensor-depths-fraction",
        ARRAY_IMAGE,
        {"format_options": {"patchDimensions": [4, 4], "tensorDepths": {"arr": 2.5}}},
        "tensorDepths.arr",
        "",
    ),
    ("tensor-depths-list", ARRAY_IMAGE, {"patch_dimensions": (4, 4), "tensor_depths": [3]}, "tensorDepths", ""),
    ("unknown-band", IMAGE, {"patch_dimensions": (4, 4), "bands": ["a", "zz"]}, "bands", "'zz'"),
    ("no-bands", IMAGE, {"patch_dimensions": (4, 4), "bands": []}, "bands", ""),
    (
        "tensor-depths-band-not-selected",
        ARRAY_IMAGE,
        {"patch_dimensions": (4, 4), "tensor_depths": {"arr": 2}, "bands": ["a"]},
        "tensorDepths.arr",
        "",
    ),
]


@pytest.mark.parametrize(("image", "kwargs", "field", "text"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_option_names_the_field_and_writes_nothing(tmp_path, image, kwargs, field, text):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(OptionsError) as info:
        export_image(image, out / "x", **kwargs)
    err = info.value
    assert isinstance(err, ValueError)
    assert isinstance(err, geotfrecord.GeoTFRecordError)
    assert str(err).startswith(field), str(err)
    assert err.field == field
    assert text in str(err)
    assert os.listdir(out) == []
    assert os.listdir(tmp_path) == ["out"]


def test_keyword_and_format_options_conflict_is_named_either_way(tmp_path):
    with pytest.raises(OptionsError) as info:
        export_image(IMAGE, tmp_path / "x", format_options={"patchDimensions": [4, 4]}, compressed=False)
    assert "compressed" in info.value.field
    assert os.listdir(tmp_path) == []


def test_options_error_is_raised_before_any_file_for_bad_default_in_every_int_type(tmp_path):
    for dtype in (np.uint8, np.int16, np.uint16, np.int32):
        with pytest.raises(OptionsError, match=r"^defaultValue"):
            export_image(np.zeros((1, 4, 4), dtype), tmp_path / "x", patch_dimensions=(2, 2), default_value=math.nan)
    assert os.listdir(tmp_path) == []
