"""Model outputs → Earth Engine-ready prediction TFRecords (GitHub issue 11).

Keras-style NHWC float outputs and argmax int64 class maps, as numpy arrays, generators of batches and
tensors, are written with ``write_predictions``; TensorFlow parses them as the Earth Engine tutorials'
upload step expects (``FixedLenFeature([patchH, patchW], tf.float32 / tf.int64)``), and ``upload_image``
of the files gives the same GeoTIFF, pixel for pixel, that ``predictions_to_geotiff`` writes directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import geotfrecord
from geotfrecord import Mixer, OptionsError, predictions_to_geotiff, upload_image, write_predictions

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import Affine  # noqa: E402

RNG = np.random.default_rng(11)
PATCH = (12, 8)  # (w, h): non-square, so a transposed patch cannot pass
CRS = "EPSG:32633"
TRANSFORM = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)
# 5 patches per row, 3 rows: 15 patches of 8 rows x 12 columns.
MIXER = Mixer(CRS, tuple(TRANSFORM)[:6], PATCH, 5, 15)
N = MIXER.total_patches
PH, PW = PATCH[1], PATCH[0]


# --------------------------------------------------------------------------------------------- helpers


def keras_outputs(classes=3):
    """Softmax-like NHWC float32 outputs for every patch, and their argmax class maps (int64, NHW)."""
    logits = RNG.normal(size=(N, PH, PW, classes)).astype(np.float32)
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return probs.astype(np.float32), np.argmax(probs, axis=-1).astype(np.int64)


def assemble(patches):
    """(N, C, patchH, patchW) in the mixer's row-major order → the (C, H, W) image they tile."""
    n, c = patches.shape[:2]
    rows = n // MIXER.patches_per_row
    grid = patches.reshape(rows, MIXER.patches_per_row, c, PH, PW)
    return grid.transpose(2, 0, 3, 1, 4).reshape(c, rows * PH, MIXER.patches_per_row * PW)


def buffered(patches_nhwc, margin):
    """Tile-sized NHWC outputs: each patch with ``margin`` (x, y) of extra pixels around it."""
    mx, my = margin
    n, h, w, c = patches_nhwc.shape
    tiles = RNG.normal(size=(n, h + 2 * my, w + 2 * mx, c)).astype(patches_nhwc.dtype)
    tiles[:, my : my + h, mx : mx + w] = patches_nhwc
    return tiles


def tf_parse(tf, files, spec, *, compressed=False):
    dataset = tf.data.TFRecordDataset(list(files), compression_type="GZIP" if compressed else "")
    return [{k: v.numpy() for k, v in tf.io.parse_single_example(r, spec).items()} for r in dataset]


def read_tif(path):
    with rasterio.open(path) as src:
        assert src.crs == rasterio.crs.CRS.from_user_input(CRS)
        assert src.transform == TRANSFORM
        return src.read()


def file_bytes(files):
    return [Path(f).read_bytes() for f in files]


def listing(folder):
    return sorted(os.listdir(folder))


def batches(array, sizes):
    start = 0
    for size in sizes:
        yield array[start : start + size]
        start += size


# ----------------------------------------------------------------------------------- TensorFlow parsing


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_keras_outputs_parse_as_the_tutorials_expect(tf, tmp_path, compressed):
    probs, classes = keras_outputs()
    names = ["p0", "p1", "p2"]
    files = write_predictions(probs, tmp_path / "prob", bands=names, mixer=MIXER, layout="NHWC", compressed=compressed)
    suffix = ".tfrecord.gz" if compressed else ".tfrecord"
    assert files == [str(tmp_path / f"prob-00000{suffix}")]
    spec = {n: tf.io.FixedLenFeature([PH, PW], tf.float32) for n in names}
    parsed = tf_parse(tf, files, spec, compressed=compressed)
    assert len(parsed) == N
    for i, record in enumerate(parsed):
        for c, name in enumerate(names):
            np.testing.assert_array_equal(record[name], probs[i, :, :, c], strict=True)

    files = write_predictions(classes, tmp_path / "class", bands=["class"], mixer=MIXER, compressed=compressed)
    parsed = tf_parse(tf, files, {"class": tf.io.FixedLenFeature([PH, PW], tf.int64)}, compressed=compressed)
    np.testing.assert_array_equal(np.stack([r["class"] for r in parsed]), classes, strict=True)
    # int64_list on the wire, as the tutorials upload class maps; floats stay float_list.
    record = geotfrecord.decode_example(next(geotfrecord.read_records(files[0])))
    assert record["class"].dtype == np.int64


def test_integer_and_bool_outputs_are_int64_lists(tf, tmp_path):
    for dtype in (np.uint8, np.int32, np.bool_):
        values = RNG.integers(0, 2, size=(N, 1, PH, PW)).astype(dtype)
        files = write_predictions(values, tmp_path / np.dtype(dtype).name, bands="c", mixer=MIXER)
        parsed = tf_parse(tf, files, {"c": tf.io.FixedLenFeature([PH, PW], tf.int64)})
        np.testing.assert_array_equal(np.stack([r["c"] for r in parsed]), values[:, 0].astype(np.int64))


# ---------------------------------------------------------------------------- records → GeoTIFF, directly


def test_upload_equals_predictions_to_geotiff(tmp_path):
    probs, classes = keras_outputs()
    names = ["p0", "p1", "p2"]
    files = write_predictions(probs, tmp_path / "prob", bands=names, mixer=MIXER, layout="NHWC", max_file_size=3000)
    assert len(files) > 3
    uploaded = read_tif(upload_image(files, MIXER, tmp_path / "up.tif").path)
    direct = read_tif(predictions_to_geotiff(probs, MIXER, tmp_path / "direct.tif", bands=names, layout="NHWC"))
    expected = assemble(probs.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(uploaded, expected, strict=True)
    np.testing.assert_array_equal(direct, expected, strict=True)

    files = write_predictions(classes, tmp_path / "class", bands=["class"], mixer=MIXER, layout="NHWC")
    uploaded = read_tif(upload_image(files, MIXER, tmp_path / "class-up.tif", dtype="uint8").path)
    direct = read_tif(predictions_to_geotiff(classes, MIXER, tmp_path / "class.tif", bands=["class"], dtype="uint8"))
    expected = assemble(classes[:, None]).astype(np.uint8)
    np.testing.assert_array_equal(uploaded, expected, strict=True)
    np.testing.assert_array_equal(direct, expected, strict=True)


def test_round_trip_through_an_export(tmp_path):
    """Export → read_patches → a 'model' (identity, on tile-sized inputs) → write → upload = the image."""
    image = RNG.normal(size=(2, 30, 64)).astype(np.float32)
    result = geotfrecord.export_image(
        image, tmp_path / "s", patch_dimensions=PATCH, kernel_size=(6, 4), crs=CRS, transform=TRANSFORM
    )
    inputs = next(geotfrecord.read_patches(result.files, result.mixer, batch_size=1000, kernel_size=(6, 4)))
    assert inputs.shape == (15, 2, PH + 4, PW + 6)
    files = write_predictions(inputs, tmp_path / "pred", bands=["a", "b"], mixer=result.mixer)
    np.testing.assert_array_equal(
        read_tif(upload_image(files, result.mixer, tmp_path / "o.tif").path), image[:, :24, :60]
    )


# -------------------------------------------------------------------------------- kinds of input batches


def test_generator_of_batches_writes_the_same_bytes(tmp_path):
    probs, _ = keras_outputs()
    names = ["p0", "p1", "p2"]
    whole = write_predictions(probs, tmp_path / "whole", bands=names, mixer=MIXER, layout="NHWC", compressed=True)
    gen = write_predictions(
        batches(probs, [4, 4, 4, 3]), tmp_path / "gen", bands=names, mixer=MIXER, layout="NHWC", compressed=True
    )
    listed = write_predictions(
        list(batches(probs, [1, 14])), tmp_path / "list", bands=names, mixer=MIXER, layout="NHWC", compressed=True
    )
    assert file_bytes(whole) == file_bytes(gen) == file_bytes(listed)
    direct = predictions_to_geotiff(batches(probs, [7, 8]), MIXER, tmp_path / "d.tif", bands=names, layout="NHWC")
    np.testing.assert_array_equal(read_tif(direct), assemble(probs.transpose(0, 3, 1, 2)))


class ArrayLike:
    """What a CPU tensor offers numpy: ``__array__`` (the path torch tensors take)."""

    def __init__(self, array):
        self._array = array

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)


def test_array_like_tensors(tmp_path):
    _, classes = keras_outputs()
    ref = write_predictions(classes, tmp_path / "ref", bands=["class"], mixer=MIXER)
    one = write_predictions(ArrayLike(classes), tmp_path / "one", bands=["class"], mixer=MIXER)
    many = write_predictions((ArrayLike(b) for b in batches(classes, [10, 5])), tmp_path / "many", bands="class")
    assert file_bytes(ref) == file_bytes(one) == file_bytes(many)


def test_pytorch_tensors(tmp_path):
    torch = pytest.importorskip("torch")
    probs, classes = keras_outputs()
    nchw = torch.from_numpy(probs.transpose(0, 3, 1, 2).copy())
    names = ["p0", "p1", "p2"]
    ref = write_predictions(probs, tmp_path / "ref", bands=names, mixer=MIXER, layout="NHWC")
    assert file_bytes(ref) == file_bytes(write_predictions(nchw, tmp_path / "t", bands=names, mixer=MIXER))
    split = write_predictions(list(torch.split(nchw, 4)), tmp_path / "s", bands=names, mixer=MIXER)
    assert file_bytes(ref) == file_bytes(split)
    argmax = torch.argmax(nchw, dim=1)  # (N, H, W) int64, as a segmentation model's class map
    files = write_predictions(argmax, tmp_path / "c", bands=["class"], mixer=MIXER)
    np.testing.assert_array_equal(
        read_tif(upload_image(files, MIXER, tmp_path / "c.tif").path)[0], assemble(classes[:, None])[0]
    )


# ------------------------------------------------------------------------------------ tile-sized outputs


@pytest.mark.parametrize("kernel", [(4, 4), (5, 5), (32, 32), (6, 2), (1, 7)])
def test_tile_sized_outputs_are_cropped(tmp_path, kernel):
    probs, _ = keras_outputs(2)
    margin = (kernel[0] // 2, kernel[1] // 2)
    tiles = buffered(probs, margin)
    names = ["a", "b"]
    ref = file_bytes(write_predictions(probs, tmp_path / "ref", bands=names, layout="NHWC"))
    by_kernel = write_predictions(tiles, tmp_path / "k", bands=names, layout="NHWC", kernel_size=kernel)
    by_mixer = write_predictions(tiles, tmp_path / "m", bands=names, layout="NHWC", mixer=MIXER)
    both = write_predictions(tiles, tmp_path / "mk", bands=names, layout="NHWC", mixer=MIXER, kernel_size=kernel)
    assert file_bytes(by_kernel) == file_bytes(by_mixer) == file_bytes(both) == ref
    direct = predictions_to_geotiff(tiles, MIXER, tmp_path / "d.tif", bands=names, layout="NHWC")
    np.testing.assert_array_equal(read_tif(direct), assemble(probs.transpose(0, 3, 1, 2)), strict=True)


def test_tile_sized_batches_of_a_generator(tmp_path):
    _, classes = keras_outputs()
    tiles = buffered(classes[..., None], (3, 1))[..., 0]  # (N, H + 2, W + 6) int64
    files = write_predictions(batches(tiles, [6, 6, 3]), tmp_path / "p", bands="class", mixer=MIXER)
    ref = write_predictions(classes, tmp_path / "ref", bands="class", mixer=MIXER)
    assert file_bytes(files) == file_bytes(ref)


def test_outputs_that_are_no_tile_of_the_patch(tmp_path):
    probs, _ = keras_outputs(1)
    for bad in (probs[:, :, :-1], probs[:, :-2], buffered(probs, (1, 1))[:, 1:]):
        with pytest.raises(OptionsError, match=r"outputs are \d+ x \d+"):
            write_predictions(bad, tmp_path / "p", bands="x", layout="NHWC", mixer=MIXER)
    with pytest.raises(OptionsError, match="need 12 x 16"):  # the kernel says a bigger tile
        write_predictions(probs, tmp_path / "p", bands="x", layout="NHWC", mixer=MIXER, kernel_size=(4, 4))
    with pytest.raises(OptionsError, match="leaves nothing"):
        write_predictions(probs, tmp_path / "p", bands="x", layout="NHWC", kernel_size=(24, 2))
    # A later batch of another size than the first.
    with pytest.raises(OptionsError, match="outputs are"):
        write_predictions(
            iter([probs[:5], buffered(probs[5:], (2, 2))]), tmp_path / "p", bands="x", layout="NHWC", mixer=MIXER
        )
    assert listing(tmp_path) == []


# ------------------------------------------------------------------------------------- wrong patch count


def test_too_many_patches(tmp_path):
    _, classes = keras_outputs()
    extra = np.concatenate([classes, classes[:1]])
    with pytest.raises(OptionsError) as info:
        write_predictions(extra, tmp_path / "p", bands="class", mixer=MIXER)
    assert "totalPatches (15)" in str(info.value) and "16" in str(info.value)
    assert listing(tmp_path) == []


def test_too_few_patches(tmp_path):
    _, classes = keras_outputs()
    with pytest.raises(OptionsError) as info:
        write_predictions(classes[:-1], tmp_path / "p", bands="class", mixer=MIXER)
    assert "expects 15" in str(info.value) and "got 14" in str(info.value)
    assert listing(tmp_path) == []


def test_count_error_after_several_shards_leaves_no_file(tmp_path):
    """Shards already finished by earlier batches are discarded too: nothing is left at all."""
    probs, _ = keras_outputs()
    seen = []

    def generate():
        for batch in batches(np.concatenate([probs, probs[:3]]), [6, 6, 6]):
            seen.append(listing(tmp_path))
            yield batch

    with pytest.raises(OptionsError, match=r"totalPatches \(15\): 18"):
        write_predictions(
            generate(), tmp_path / "p", bands=["a", "b", "c"], layout="NHWC", mixer=MIXER, max_file_size=2500
        )
    assert any(seen[1:]), "files were being written when the error came"
    assert listing(tmp_path) == []
    # A generator that ends early.
    with pytest.raises(OptionsError, match=r"expects 15 patches .*got 12"):
        write_predictions(batches(probs, [6, 6]), tmp_path / "p", bands=["a", "b", "c"], layout="NHWC", mixer=MIXER)
    assert listing(tmp_path) == []


def test_predictions_to_geotiff_wrong_count_leaves_no_file(tmp_path):
    _, classes = keras_outputs()
    for wrong in (classes[:-1], np.concatenate([classes, classes[:2]])):
        with pytest.raises(OptionsError, match="15"):
            predictions_to_geotiff(wrong, MIXER, tmp_path / "out.tif", bands="class")
        assert listing(tmp_path) == []


# ------------------------------------------------------------------------------------------ layout errors


def test_layout_errors(tmp_path):
    probs, classes = keras_outputs()
    with pytest.raises(OptionsError) as info:
        write_predictions(probs, tmp_path / "p", bands=["a", "b", "c"], layout="NWHC")
    assert info.value.field == "layout"
    with pytest.raises(OptionsError) as info:
        predictions_to_geotiff(probs, MIXER, tmp_path / "o.tif", bands=["a", "b", "c"], layout="CHW")
    assert info.value.field == "layout"
    # NHWC outputs described as NCHW: 8 "channels" for 3 band names.
    with pytest.raises(OptionsError, match="3 band names for 8 channels") as info:
        write_predictions(probs, tmp_path / "p", bands=["a", "b", "c"])
    assert info.value.field == "bands"
    with pytest.raises(OptionsError, match="2 band names for 3 channels"):
        write_predictions(probs, tmp_path / "p", bands=["a", "b"], layout="NHWC")
    for shape in [(N, PH, PW), (PH, PW), (N, 1, 1, PH, PW)]:
        with pytest.raises(OptionsError, match="must be 4-D"):
            write_predictions(np.zeros(shape, np.float32), tmp_path / "p", bands=["a", "b"])
    with pytest.raises(OptionsError, match="cannot write predictions of type"):
        write_predictions(classes.astype(np.complex64), tmp_path / "p", bands="c")
    with pytest.raises(OptionsError, match="expected an array"):
        write_predictions(42, tmp_path / "p", bands="c")
    assert listing(tmp_path) == []
