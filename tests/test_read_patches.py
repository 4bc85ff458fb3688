"""read_patches: exported patches back as numpy arrays, shaped from the mixer or from a {band: shape} spec."""

from __future__ import annotations

import numpy as np
import pytest

import geotfrecord
from geotfrecord import ArrayBand, CorruptRecordError, export_image, read_patches

RNG = np.random.default_rng(20)


def tile_of(image, r, c, patch, kernel):
    """Tile (r, c) of a (..., rows, cols) image as the export cuts it: zero outside the image."""
    (pw, ph), (mx, my) = patch, (kernel[0] // 2, kernel[1] // 2)
    rows, cols = image.shape[-2:]
    padded = np.zeros((*image.shape[:-2], rows + 2 * my, cols + 2 * mx), image.dtype)
    padded[..., my : my + rows, mx : mx + cols] = image
    return padded[..., r * ph : (r + 1) * ph + 2 * my, c * pw : (c + 1) * pw + 2 * mx]


def expected_tiles(image, patch, kernel):
    per_row, rows = image.shape[-1] // patch[0], image.shape[-2] // patch[1]
    return [tile_of(image, r, c, patch, kernel) for r in range(rows) for c in range(per_row)]


# ------------------------------------------------------------------------------------------ 2-D tiles

CASES = [
    # (rows, cols), patch (w, h), kernel (w, h)
    ((24, 32), (8, 8), (1, 1)),
    ((24, 36), (12, 8), (32, 32)),
    ((25, 31), (6, 5), (5, 5)),
    ((20, 30), (10, 4), (2, 2)),
]


@pytest.mark.parametrize(("shape", "patch", "kernel"), CASES)
def test_tiles_from_the_mixer(tmp_path, shape, patch, kernel):
    image = RNG.normal(size=(2, *shape)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=patch, kernel_size=kernel, max_file_size=3000)
    assert len(result.files) > 1
    want = expected_tiles(image, patch, kernel)
    tile = (patch[1] + 2 * (kernel[1] // 2), patch[0] + 2 * (kernel[0] // 2))
    for mixer in (result.mixer, geotfrecord.Mixer.load(result.mixer), geotfrecord.Mixer.load(result.mixer).to_dict()):
        got = list(read_patches(result.files, mixer))
        assert len(got) == result.total_patches
        for g, w in zip(got, want, strict=True):
            assert list(g) == ["b1", "b2"]
            assert g["b1"].shape == g["b2"].shape == tile
            np.testing.assert_array_equal(np.stack([g["b1"], g["b2"]]), w, strict=True)
    # The same from a glob, and with the kernel told.
    glob = str(tmp_path / "s-*.tfrecord.gz")
    for g, w in zip(read_patches(glob, result.mixer, kernel_size=kernel), want, strict=True):
        np.testing.assert_array_equal(g["b2"], w[1])


def test_ambiguous_tiles_need_kernel_size(tmp_path):
    """A (5, 1) kernel around 4 x 4 patches makes 4 x 8 tiles; 32 values are also 8 x 4 tiles (or 2 x 4 x 4)."""
    image = RNG.normal(size=(2, 8, 16)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(4, 4), kernel_size=(5, 1))
    with pytest.raises(CorruptRecordError, match=r"record 0: .*give kernel_size"):
        next(read_patches(result.files, result.mixer))
    got = list(read_patches(result.files, result.mixer, kernel_size=(5, 1)))
    for g, w in zip(got, expected_tiles(image, (4, 4), (5, 1)), strict=True):
        assert g["b1"].shape == (4, 8)
        np.testing.assert_array_equal(g["b1"], w[0])
    with pytest.raises(CorruptRecordError, match="record 0: feature 'b1' has 32 values"):
        next(read_patches(result.files, result.mixer, kernel_size=(3, 3)))


def test_bands_select_and_order(tmp_path):
    image = RNG.normal(size=(3, 16, 16)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(8, 8), band_names=["r", "g", "b"])
    patch = next(read_patches(result.files, result.mixer, bands=["b", "r"]))
    assert list(patch) == ["b", "r"]
    np.testing.assert_array_equal(patch["b"], image[2, :8, :8])
    with pytest.raises(CorruptRecordError, match="record 0: no feature 'nir'"):
        next(read_patches(result.files, result.mixer, bands=["nir"]))


# ------------------------------------------------------------------------------------ tensorDepths: 3-D


@pytest.mark.parametrize("depth", [2, 3, 4, 8, 9])
@pytest.mark.parametrize(("patch", "kernel"), [((4, 4), (1, 1)), ((4, 4), (4, 4)), ((6, 4), (3, 3)), ((5, 3), (1, 1))])
def test_array_bands_are_depth_tile_tile(tmp_path, depth, patch, kernel):
    """An array band exported with tensorDepths reads as (depth, tileH, tileW), beside (tileH, tileW)."""
    scalar = RNG.normal(size=(12, 12)).astype(np.float32)
    array = RNG.normal(size=(depth, 12, 12)).astype(np.float32)
    result = export_image(
        {"s": scalar, "a": ArrayBand(array)},
        tmp_path / "s",
        patch_dimensions=patch,
        kernel_size=kernel,
        tensor_depths={"a": depth},
    )
    tile = (patch[1] + 2 * (kernel[1] // 2), patch[0] + 2 * (kernel[0] // 2))
    got = list(read_patches(result.files, result.mixer))
    assert len(got) == result.total_patches
    for g, ws, wa in zip(got, expected_tiles(scalar, patch, kernel), expected_tiles(array, patch, kernel), strict=True):
        assert g["s"].shape == tile
        assert g["a"].shape == (depth, *tile)
        np.testing.assert_array_equal(g["s"], ws)
        np.testing.assert_array_equal(g["a"], wa)


def test_array_band_with_a_non_square_kernel(tmp_path):
    """A scalar band says the tile is 32 values, but 4 x 8 and 8 x 4 both fit: kernel_size decides."""
    scalar = RNG.normal(size=(8, 16)).astype(np.float32)
    array = RNG.normal(size=(3, 8, 16)).astype(np.float32)
    result = export_image(
        {"s": scalar, "a": ArrayBand(array)},
        tmp_path / "s",
        patch_dimensions=(4, 4),
        kernel_size=(5, 1),
        tensor_depths={"a": 3},
    )
    with pytest.raises(CorruptRecordError, match="feature lengths 32, 96 are several possible tiles"):
        next(read_patches(result.files, result.mixer))
    got = list(read_patches(result.files, result.mixer, kernel_size=(5, 1)))
    for g, wa in zip(got, expected_tiles(array, (4, 4), (5, 1)), strict=True):
        assert g["s"].shape == (4, 8)
        np.testing.assert_array_equal(g["a"], wa, strict=True)


def test_array_band_alone(tmp_path):
    """Without a scalar band the length alone must say the depth; when it cannot, kernel_size does."""
    array = RNG.normal(size=(3, 8, 8)).astype(np.float32)
    result = export_image({"a": ArrayBand(array)}, tmp_path / "x", patch_dimensions=(4, 4), tensor_depths={"a": 3})
    assert next(read_patches(result.files, result.mixer))["a"].shape == (3, 4, 4)
    # 64 values around a 4 x 4 patch: an 8 x 8 tile or 4 x 4 x 4; the kernel decides.
    array = RNG.normal(size=(4, 8, 8)).astype(np.float32)
    result = export_image({"a": ArrayBand(array)}, tmp_path / "y", patch_dimensions=(4, 4), tensor_depths={"a": 4})
    patches = list(read_patches(result.files, result.mixer, kernel_size=(1, 1)))
    for g, w in zip(patches, expected_tiles(array, (4, 4), (1, 1)), strict=True):
        np.testing.assert_array_equal(g["a"], w, strict=True)


def test_collapse_bands_reads_as_one_3d_feature(tmp_path):
    image = RNG.normal(size=(3, 12, 12)).astype(np.float32)
    result = export_image(
        image, tmp_path / "s", patch_dimensions=(6, 6), kernel_size=(2, 2), collapse_bands=True, compressed=False
    )
    got = list(read_patches(result.files, result.mixer))  # 192 values: only 3 x 8 x 8 has a square kernel
    for g, w in zip(got, expected_tiles(image, (6, 6), (2, 2)), strict=True):
        assert list(g) == ["b1"]
        np.testing.assert_array_equal(g["b1"], w, strict=True)


@pytest.mark.parametrize("bands", [2, 4, 5])
def test_collapse_bands_with_kernel_size(tmp_path, bands):
    """4 x 8 x 8 values are also one 16 x 16 tile: the length cannot tell, the kernel can."""
    image = RNG.normal(size=(bands, 16, 16)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(8, 8), collapse_bands=True)
    got = list(read_patches(result.files, result.mixer, kernel_size=(1, 1)))
    for g, w in zip(got, expected_tiles(image, (8, 8), (1, 1)), strict=True):
        assert g["b1"].shape == (bands, 8, 8)
        np.testing.assert_array_equal(g["b1"], w, strict=True)


# ---------------------------------------------------------------------------------------- {band: shape}


def test_shape_spec(tmp_path):
    image = RNG.normal(size=(2, 12, 18)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(6, 4), kernel_size=(2, 2))
    want = expected_tiles(image, (6, 4), (2, 2))
    got = list(read_patches(result.files, {"b1": (6, 8), "b2": [48]}))
    assert len(got) == len(want) == 9
    for g, w in zip(got, want, strict=True):
        assert g["b1"].shape == (6, 8)
        assert g["b2"].shape == (48,)
        np.testing.assert_array_equal(g["b1"], w[0])
        np.testing.assert_array_equal(g["b2"], w[1].reshape(-1))
    # Only the bands asked for need a shape.
    assert list(next(read_patches(result.files, {"b2": (6, 8)}, bands=["b2"]))) == ["b2"]
    with pytest.raises(CorruptRecordError, match="no shape given for feature 'b2'"):
        next(read_patches(result.files, {"b1": (6, 8)}))
    with pytest.raises(CorruptRecordError, match=r"feature 'b1' has 48 values, not \(5, 8\)"):
        next(read_patches(result.files, {"b1": (5, 8), "b2": (6, 8)}))


def test_shape_spec_reads_any_examples(tmp_path):
    """Records written by anyone (int64 and float features), shaped by the spec."""
    records = [geotfrecord.encode_example({"x": np.arange(6) + i, "y": np.full(4, i, np.float32)}) for i in range(3)]
    geotfrecord.write_records(tmp_path / "r.tfrecord", records)
    got = list(read_patches(tmp_path / "r.tfrecord", {"x": (2, 3), "y": (2, 2)}))
    assert [g["x"].dtype for g in got] == [np.dtype(np.int64)] * 3
    np.testing.assert_array_equal(got[2]["x"], np.arange(6).reshape(2, 3) + 2)
    np.testing.assert_array_equal(got[1]["y"], np.ones((2, 2), np.float32))


# ------------------------------------------------------------------------------------------- batch_size


@pytest.mark.parametrize(("batch_size", "sizes"), [(4, [4, 4, 4, 3]), (5, [5, 5, 5]), (1, [1] * 15), (100, [15])])
def test_batches(tmp_path, batch_size, sizes):
    image = RNG.normal(size=(3, 24, 30)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(6, 8), kernel_size=(4, 4), max_file_size=4000)
    assert len(result.files) > 1
    got = list(read_patches(result.files, result.mixer, batch_size=batch_size))
    assert [b.shape for b in got] == [(n, 3, 12, 10) for n in sizes]
    assert all(b.dtype == np.float32 for b in got)
    np.testing.assert_array_equal(np.concatenate(got), np.stack(expected_tiles(image, (6, 8), (4, 4))), strict=True)
    ordered = list(read_patches(result.files, result.mixer, batch_size=batch_size, bands=["b3", "b1"]))
    np.testing.assert_array_equal(np.concatenate(ordered), np.concatenate(got)[:, [2, 0]])


def test_batches_of_integer_bands_are_float32(tmp_path):
    image = RNG.integers(0, 1000, size=(2, 16, 16)).astype(np.int16)
    result = export_image(image, tmp_path / "s", patch_dimensions=(8, 8), integer_encoding="native")
    (batch,) = read_patches(result.files, result.mixer, batch_size=8)
    assert batch.shape == (4, 2, 8, 8) and batch.dtype == np.float32
    np.testing.assert_array_equal(batch, np.stack(expected_tiles(image, (8, 8), (1, 1))).astype(np.float32))


def test_corrupt_input_names_file_and_record(tmp_path):
    image = RNG.normal(size=(1, 16, 16)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(8, 8), compressed=False)
    data = bytearray((tmp_path / "s-00000.tfrecord").read_bytes())
    data[-10] ^= 0xFF  # inside the last record's payload
    (tmp_path / "s-00000.tfrecord").write_bytes(bytes(data))
    with pytest.raises(CorruptRecordError, match="record 3") as info:
        list(read_patches(result.files, result.mixer))
    assert info.value.path == result.files[0]
