"""The way back (GitHub issue 4): predictions on exported patches + the mixer → one georeferenced GeoTIFF.

Every round trip exports a georeferenced image, reads the Examples back, writes them as predictions
(tile-sized or cropped to the patch, by geotfrecord or by TensorFlow) and uploads them with
``upload_image``: the GeoTIFF must equal the patch-covered part of the original pixel for pixel, with the
same CRS and transform, as rasterio reads it.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import geotfrecord
from ee_reference import EE_MIXER
from geotfrecord import CorruptRecordError, Mixer, OptionsError, export_image, read_patches, upload_image

rasterio = pytest.importorskip("rasterio")
from rasterio.transform import Affine  # noqa: E402

RNG = np.random.default_rng(4)
NORTH_UP = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 5000000.0)
SOUTH_UP = Affine(10.0, 0.0, 500000.0, 0.0, 10.0, 4000000.0)  # positive yScale
CRS = "EPSG:32633"


# --------------------------------------------------------------------------------------------- helpers


def listing(folder):
    """Everything in ``folder``, hidden entries (temporary files and folders) included."""
    return sorted(os.listdir(folder))


def covered(image, mixer):
    """The part of (bands, rows, cols) ``image`` that the mixer's patch grid covers."""
    m = Mixer.load(mixer)
    return image[:, : m.height, : m.width]


def crop(tile, patch, kernel):
    """The patch at the centre of a (..., tileH, tileW) tile."""
    mx, my = kernel[0] // 2, kernel[1] // 2
    return tile[..., my : my + patch[1], mx : mx + patch[0]]


def write_geotiff(path, data, *, crs, transform):
    profile = {
        "driver": "GTiff",
        "height": data.shape[1],
        "width": data.shape[2],
        "count": data.shape[0],
        "dtype": data.dtype.name,
        "crs": crs,
        "transform": transform,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    return str(path)


def assert_geotiff(path, expected, *, crs, transform, dtype=np.float32):
    with rasterio.open(path) as src:
        assert src.crs == rasterio.crs.CRS.from_user_input(crs)
        assert src.transform == transform
        assert (src.count, src.height, src.width) == expected.shape
        data = src.read()
    assert data.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(data, expected.astype(dtype), strict=True)


def split_records(records, folder, name, parts, *, compressed):
    """Write ``records`` in order across ``parts`` files (uneven sizes)."""
    bounds = np.linspace(0, len(records), parts + 1).astype(int)
    suffix = ".tfrecord.gz" if compressed else ".tfrecord"
    files = []
    for i in range(parts):
        path = os.path.join(folder, f"{name}-{i:05d}{suffix}")
        geotfrecord.write_records(path, records[bounds[i] : bounds[i + 1]], compressed=compressed)
        files.append(path)
    return files


def tiles_of(result, kernel):
    """Every exported tile as {band: (tileH, tileW) float32}, read back with read_patches."""
    return list(read_patches(result.files, result.mixer, kernel_size=kernel))


# ----------------------------------------------------------------------------------------- round trips

ROUND_TRIPS = [
    # image (bands, rows, cols), patch (w, h), kernel (w, h)
    ((2, 50, 70), (16, 16), (1, 1)),
    ((2, 70, 90), (24, 16), (32, 32)),  # even kernel, non-square patch: 56 x 48 tiles
    ((3, 45, 61), (12, 8), (5, 5)),  # odd kernel: a buffer of 2
    ((1, 40, 52), (8, 12), (5, 3)),  # non-square kernel (told to upload_image: the length is ambiguous)
]


@pytest.mark.parametrize(("shape", "patch", "kernel"), ROUND_TRIPS)
@pytest.mark.parametrize("source", ["numpy", "geotiff"])
@pytest.mark.parametrize("transform", [NORTH_UP, SOUTH_UP], ids=["north-up", "south-up"])
@pytest.mark.parametrize("records", ["tile-sized", "patch-cropped"])
def test_round_trip(tmp_path, shape, patch, kernel, source, transform, records):
    image = RNG.normal(size=shape).astype(np.float32)
    if source == "numpy":
        result = export_image(
            image, tmp_path / "scene", patch_dimensions=patch, kernel_size=kernel, crs=CRS, transform=transform
        )
    else:
        tif = write_geotiff(tmp_path / "scene.tif", image, crs=CRS, transform=transform)
        result = export_image(tif, tmp_path / "scene", patch_dimensions=patch, kernel_size=kernel)
    tiles = tiles_of(result, kernel)
    assert len(tiles) == result.total_patches
    names = [f"b{i + 1}" for i in range(shape[0])]
    if records == "tile-sized":
        encoded = [geotfrecord.encode_example({n: t[n] for n in names}) for t in tiles]
    else:
        encoded = [geotfrecord.encode_example({n: crop(t[n], patch, kernel) for n in names}) for t in tiles]
    (tmp_path / "pred").mkdir()
    files = split_records(encoded, tmp_path / "pred", "pred", 3, compressed=records == "tile-sized")
    square = kernel[0] == kernel[1]
    up = upload_image(files, result.mixer, tmp_path / "out.tif", kernel_size=None if square else kernel)
    mixer = Mixer.load(result.mixer)
    assert (up.width, up.height, up.patches, up.bands) == (
        mixer.width,
        mixer.height,
        result.total_patches,
        tuple(names),
    )
    assert up.margin == ((kernel[0] // 2, kernel[1] // 2) if records == "tile-sized" else (0, 0))
    assert up.path == str(tmp_path / "out.tif")
    assert_geotiff(up.path, covered(image, mixer), crs=CRS, transform=transform)


def test_upload_of_the_export_itself_by_glob(tmp_path):
    """The export's own (gzip, tile-sized) shards go straight back; a glob is expanded in sorted order."""
    image = RNG.normal(size=(2, 64, 80)).astype(np.float32)
    result = export_image(
        image,
        tmp_path / "s",
        patch_dimensions=(16, 16),
        kernel_size=(8, 8),
        max_file_size=5000,
        crs=CRS,
        transform=NORTH_UP,
    )
    assert len(result.files) > 3
    up = upload_image(str(tmp_path / "s-*.tfrecord.gz"), str(result.mixer), tmp_path / "back.tif")
    assert up.margin == (4, 4)
    assert_geotiff(up.path, image, crs=CRS, transform=NORTH_UP)
    # The files listed in another order are other patches in other places: the values must differ.
    up = upload_image(result.files[::-1], result.mixer, tmp_path / "reversed.tif")
    with rasterio.open(up.path) as src:
        assert not np.array_equal(src.read(), image)


def test_glob_that_matches_nothing(tmp_path):
    image = np.zeros((1, 16, 16), np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(8, 8))
    with pytest.raises(OptionsError, match="no file matches"):
        upload_image(str(tmp_path / "nothing-*.tfrecord"), result.mixer, tmp_path / "out.tif")
    assert not (tmp_path / "out.tif").exists()


def test_bands_dtype_nodata_and_progress(tmp_path):
    image = RNG.integers(0, 9, size=(3, 32, 48)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(16, 16), crs=CRS, transform=NORTH_UP)
    seen = []
    up = upload_image(
        result.files,
        result.mixer,
        tmp_path / "two.tif",
        bands=["b3", "b1"],
        dtype="int16",
        nodata=-1,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert up.bands == ("b3", "b1")
    assert seen == [(i, 6) for i in range(1, 7)]
    assert_geotiff(up.path, image[[2, 0]], crs=CRS, transform=NORTH_UP, dtype=np.int16)
    with rasterio.open(up.path) as src:
        assert src.nodata == -1
        assert src.descriptions == ("b3", "b1")


# ------------------------------------------------------------------------------------------ file layout


def test_cloud_optimized_by_default_plain_tiled_otherwise(tmp_path):
    image = RNG.normal(size=(1, 600, 560)).astype(np.float32)
    result = export_image(image, tmp_path / "s", patch_dimensions=(64, 64), crs=CRS, transform=NORTH_UP)
    cog = upload_image(result.files, result.mixer, tmp_path / "cog.tif")
    plain = upload_image(result.files, result.mixer, tmp_path / "plain.tif", cloud_optimized=False)
    expected = covered(image, result.mixer)
    for path in (cog.path, plain.path):
        assert_geotiff(path, expected, crs=CRS, transform=NORTH_UP)
    with rasterio.open(cog.path) as src:
        assert src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert src.overviews(1), "a 576 x 512 COG has overviews"
        assert src.block_shapes == [(256, 256)]
        assert src.profile["compress"] == "deflate"
    with rasterio.open(plain.path) as src:
        assert "LAYOUT" not in src.tags(ns="IMAGE_STRUCTURE")
        assert src.overviews(1) == []
        assert src.profile["tiled"]
        assert src.block_shapes == [(256, 256)]


def test_small_images_are_tiled_too(tmp_path):
    """Smaller than one block: still a tiled GeoTIFF (one tile), a COG by default."""
    image = RNG.normal(size=(2, 40, 56)).astype(np.float32)
    result = export_image(
        image, tmp_path / "s", patch_dimensions=(8, 8), kernel_size=(5, 5), crs=CRS, transform=SOUTH_UP
    )
    for cog in (True, False):
        up = upload_image(result.files, result.mixer, tmp_path / f"{cog}.tif", cloud_optimized=cog)
        assert_geotiff(up.path, image, crs=CRS, transform=SOUTH_UP)
        with rasterio.open(up.path) as src:
            assert src.profile["tiled"]
            assert (src.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG") is cog
    assert listing(tmp_path) == ["False.tif", "True.tif", "s-00000.tfrecord.gz", "s-mixer.json"]


# ------------------------------------------------------------------------------------------- TensorFlow


def _tf_example(tf, features):
    feature = {}
    for name, value in features.items():
        flat = np.asarray(value).reshape(-1)
        if flat.dtype.kind == "f":
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=flat.tolist()))
        else:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=flat.tolist()))
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


@pytest.mark.parametrize("compression", ["GZIP", ""], ids=["gzip", "plain"])
@pytest.mark.parametrize("records", ["tile-sized", "patch-cropped"])
def test_tensorflow_written_predictions(tf, tmp_path, compression, records):
    """Predictions written by TensorFlow, as the tutorials do (float_list probabilities, int64_list
    classes), across more files than the export has, upload with the right CRS, transform and values."""
    patch, kernel = (12, 8), (4, 4)
    image = RNG.normal(size=(1, 40, 60)).astype(np.float32)
    result = export_image(
        image,
        tmp_path / "s",
        patch_dimensions=patch,
        kernel_size=kernel,
        max_file_size=8000,
        crs=CRS,
        transform=SOUTH_UP,
    )
    assert 1 < len(result.files) < 7, "the predictions go to 7 files, a different number"
    tiles = [t["b1"] for t in tiles_of(result, kernel)]
    if records == "patch-cropped":
        tiles = [crop(t, patch, kernel) for t in tiles]
    (tmp_path / "pred").mkdir()
    bounds = np.linspace(0, len(tiles), 8).astype(int)  # 7 files, 25 patches
    files = []
    for i in range(7):
        path = str(tmp_path / "pred" / f"pred-{i}.tfrecord{'.gz' if compression else ''}")
        with tf.io.TFRecordWriter(path, options=tf.io.TFRecordOptions(compression_type=compression)) as writer:
            for t in tiles[bounds[i] : bounds[i + 1]]:
                writer.write(_tf_example(tf, {"prob": t, "class": (t > 0).astype(np.int64)}))
        files.append(path)
    up = upload_image(str(tmp_path / "pred" / "pred-*"), result.mixer, tmp_path / "out.tif", bands=["prob", "class"])
    assert up.bands == ("prob", "class")
    expected = covered(image, result.mixer)
    assert_geotiff(up.path, np.concatenate([expected, (expected > 0)]), crs=CRS, transform=SOUTH_UP)
    up = upload_image(files, result.mixer, tmp_path / "classes.tif", bands=["class"], dtype="uint8")
    assert_geotiff(up.path, (expected > 0).astype(np.uint8), crs=CRS, transform=SOUTH_UP, dtype=np.uint8)


# ------------------------------------------------------------------------------ Earth Engine's own mixer


def test_earth_engines_mixer_loads_and_uploads(tmp_path):
    path = tmp_path / "ee-mixer.json"
    path.write_text(EE_MIXER, encoding="utf-8")
    for source in (str(path), path, EE_MIXER, Mixer.from_json(EE_MIXER).to_dict()):
        m = Mixer.load(source)
        assert m.crs == "EPSG:4326"
        assert m.affine == (
            8.983152841195215e-4,
            0.0,
            13.599595086285436,
            0.0,
            -8.983152841195215e-4,
            45.40175277468474,
        )
        assert (m.patch_dimensions, m.patches_per_row, m.total_patches) == ((256, 256), 5, 10)
        assert (m.width, m.height) == (1280, 512)
        assert m.to_json() == EE_MIXER
    # Integer class predictions, one per patch, as the official notebooks upload them.
    classes = RNG.integers(0, 4, size=(10, 256, 256))
    records = [geotfrecord.encode_example({"prediction": c}) for c in classes]
    geotfrecord.write_records(tmp_path / "pred.tfrecord", records)
    up = upload_image(tmp_path / "pred.tfrecord", path, tmp_path / "out.tif", dtype="uint8")
    expected = classes.reshape(2, 5, 256, 256).transpose(0, 2, 1, 3).reshape(1, 512, 1280)
    assert_geotiff(up.path, expected, crs="EPSG:4326", transform=Affine(*Mixer.load(EE_MIXER).affine), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------- errors


@pytest.fixture
def export(tmp_path):
    """A 2-band export (3 x 2 patches of 8 x 6, kernel 4) and its tile-sized records."""
    image = RNG.normal(size=(2, 12, 24)).astype(np.float32)
    (tmp_path / "export").mkdir()
    result = export_image(
        image, tmp_path / "export" / "s", patch_dimensions=(8, 6), kernel_size=(4, 4), crs=CRS, transform=NORTH_UP
    )
    records = [r for f in result.files for r in geotfrecord.read_records(f)]
    assert len(records) == 6
    folder = tmp_path / "bad"
    folder.mkdir()
    return result, records, folder


def _fails(folder, files, mixer, error, *pieces, **kwargs):
    """upload_image raises ``error`` mentioning every piece, and leaves nothing new in ``folder``."""
    before = listing(folder)
    with pytest.raises(error) as info:
        upload_image(files, mixer, folder / "out.tif", **kwargs)
    for piece in pieces:
        assert piece in str(info.value)
    assert listing(folder) == before, "no output file and no temporary left behind"
    return info.value


def test_too_few_examples(export):
    result, records, folder = export
    files = split_records(records[:5], folder, "p", 2, compressed=False)
    err = _fails(folder, files, result.mixer, CorruptRecordError, files[1], "record 2", "5 Examples", "expects 6")
    assert (err.path, err.record_index) == (files[1], 2)


def test_too_many_examples(export):
    result, records, folder = export
    files = split_records([*records, records[0]], folder, "p", 2, compressed=True)
    err = _fails(folder, files, result.mixer, CorruptRecordError, files[1], "record 3", "totalPatches (6)")
    assert (err.path, err.record_index) == (files[1], 3)


def test_no_examples(export):
    result, _, folder = export
    files = split_records([], folder, "p", 1, compressed=False)
    _fails(folder, files, result.mixer, OptionsError, files[0], "no Examples", "expects 6")


def test_missing_band(export):
    result, records, folder = export
    decoded = geotfrecord.decode_example(records[4])
    records = [*records[:4], geotfrecord.encode_example({"b1": decoded["b1"]}), records[5]]
    files = split_records(records, folder, "p", 2, compressed=False)
    err = _fails(folder, files, result.mixer, CorruptRecordError, files[1], "record 1", "no feature 'b2'")
    assert err.record_index == 1
    # Asking for a band no record has fails on the first record.
    _fails(folder, files, result.mixer, CorruptRecordError, files[0], "record 0", "no feature 'nope'", bands=["nope"])


def test_wrong_length(export):
    result, records, folder = export
    decoded = geotfrecord.decode_example(records[3])
    decoded["b2"] = decoded["b2"][:-1]
    records = [*records[:3], geotfrecord.encode_example(decoded), *records[4:]]
    files = split_records(records, folder, "p", 1, compressed=True)
    _fails(
        folder,
        files,
        result.mixer,
        CorruptRecordError,
        files[0],
        "record 3",
        "'b2'",
        "119 values",
        "expected 120 (12 x 10)",
    )


def test_bytes_feature(export):
    result, records, folder = export
    records = [*records[:2], geotfrecord.encode_example({"b1": b"x", "b2": b"y"}), *records[3:]]
    files = split_records(records, folder, "p", 1, compressed=False)
    _fails(folder, files, result.mixer, CorruptRecordError, files[0], "record 2", "bytes")


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_corrupt_record(export, compressed):
    """One byte flipped: the CRC (or gzip's check) catches it, naming the file and a record."""
    result, records, folder = export
    files = split_records(records, folder, "p", 2, compressed=compressed)
    data = bytearray((folder / os.path.basename(files[1])).read_bytes())
    if compressed:
        data[len(data) // 2] ^= 0xFF
    else:
        # Inside the payload of the file's record 1.
        first = int.from_bytes(data[:8], "little")
        start = 16 + first
        data[start + 12 + int.from_bytes(data[start : start + 8], "little") // 2] ^= 0xFF
    (folder / os.path.basename(files[1])).write_bytes(bytes(data))
    err = _fails(folder, files, result.mixer, CorruptRecordError, files[1], "record ")
    assert err.path == files[1]
    if not compressed:
        assert err.record_index == 1
        assert "CRC" in str(err)


def test_undecodable_example(export):
    """A record whose CRCs are right but whose bytes are no Example."""
    result, records, folder = export
    files = split_records([*records[:5], b"\xff\xff\xff"], folder, "p", 1, compressed=False)
    _fails(folder, files, result.mixer, CorruptRecordError, files[0], "record 5")


def test_ambiguous_length_needs_kernel_size(tmp_path):
    """A (5, 3) kernel around 8 x 12 patches makes 12 x 14 tiles; 168 values are also 14 x 12 tiles."""
    image = RNG.normal(size=(1, 24, 32)).astype(np.float32)
    result = export_image(
        image, tmp_path / "s", patch_dimensions=(8, 12), kernel_size=(5, 3), crs=CRS, transform=NORTH_UP
    )
    folder = tmp_path / "out"
    folder.mkdir()
    _fails(folder, result.files, result.mixer, CorruptRecordError, result.files[0], "record 0", "give kernel_size")
    up = upload_image(result.files, result.mixer, folder / "out.tif", kernel_size=(5, 3))
    assert up.margin == (2, 1)
    assert_geotiff(up.path, image, crs=CRS, transform=NORTH_UP)
    # A kernel that does not fit the records is an error too.
    _fails(folder, result.files, result.mixer, CorruptRecordError, "record 0", "kernel 3 x 3", kernel_size=(3, 3))


def test_failure_keeps_an_existing_output(export):
    """An upload that fails does not touch a file already under the output name."""
    result, records, folder = export
    (folder / "out.tif").write_bytes(b"previous")
    files = split_records(records[:4], folder, "p", 1, compressed=False)
    _fails(folder, files, result.mixer, CorruptRecordError, "4 Examples")
    assert (folder / "out.tif").read_bytes() == b"previous"
