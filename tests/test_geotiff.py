"""GeoTIFF export: every GeoTiffImageExportOptions field, pieces, masks, COGs, atomic output."""

from __future__ import annotations

import os

import numpy as np
import pytest

rasterio = pytest.importorskip("rasterio")

from rasterio.enums import MaskFlags  # noqa: E402
from rasterio.transform import Affine  # noqa: E402

import geotfrecord  # noqa: E402
from geotfrecord import ArrayBand, OptionsError  # noqa: E402
from geotfrecord._files import TEMP_SUFFIX  # noqa: E402
from geotfrecord.geotiff import GeoTiffOptions, export_geotiff  # noqa: E402
from geotfrecord.naming import geotiff_name, geotiff_piece_name  # noqa: E402
from geotfrecord.samples import SAMPLE_BANDS, SAMPLE_CRS, sample_transform, synthetic_image, write_sample_geotiff  # noqa: E402

CRS = SAMPLE_CRS
TRANSFORM = sample_transform()
NAMES = ["B2", "B3", "B4"]
ROWS, COLS = 300, 520


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return synthetic_image(3, ROWS, COLS, seed=5)


def _export(image: np.ndarray, prefix: str, **kwargs):
    kwargs.setdefault("band_names", NAMES)
    kwargs.setdefault("crs", CRS)
    kwargs.setdefault("transform", TRANSFORM)
    return export_geotiff(image, prefix, **kwargs)


def _read(path: str):
    with rasterio.open(path) as ds:
        return ds.read(), ds.read_masks(1), ds.profile, ds.descriptions, ds.mask_flag_enums, ds.overviews(1)


def _piece_transform(y0: int, x0: int, transform: tuple[float, ...] = TRANSFORM) -> Affine:
    """The image's transform moved to pixel (x0, y0), written out (affine's ``*`` is deprecated)."""
    a, b, c, d, e, f = transform
    return Affine(a, b, c + a * x0 + b * y0, d, e, f + d * x0 + e * y0)


def _files_in(folder) -> list[str]:
    return sorted(os.listdir(folder))


# ---------------------------------------------------------------- one file


def test_single_file_keeps_values_names_crs_and_transform(tmp_path, image):
    result = _export(image, str(tmp_path / "scene"))
    assert result.files == (geotiff_name(str(tmp_path / "scene")),)
    assert result.offsets == ((0, 0),) and result.skipped == () and result.total_files == 1
    data, _, profile, descriptions, flags, _ = _read(result.files[0])
    np.testing.assert_array_equal(data, image)
    assert descriptions == tuple(NAMES)
    assert profile["crs"].to_epsg() == 32633
    assert profile["transform"] == Affine(*TRANSFORM)
    assert profile["dtype"] == "float32" and profile["nodata"] is None
    assert all(f == [MaskFlags.all_valid] for f in flags)  # nothing masked: no mask written
    assert _files_in(tmp_path) == ["scene.tif"]


@pytest.mark.parametrize("tile_size", [64, 128, 256])
def test_tile_size_is_the_block_shape(tmp_path, image, tile_size):
    result = _export(image, str(tmp_path / "scene"), tile_size=tile_size)
    with rasterio.open(result.files[0]) as ds:
        assert ds.block_shapes == [(tile_size, tile_size)] * 3
        assert ds.profile["tiled"]


def test_file_larger_than_the_image_is_one_file(tmp_path, image):
    result = _export(image, str(tmp_path / "scene"), file_dimensions=(1024, 512))
    assert [os.path.basename(f) for f in result.files] == ["scene.tif"]


def test_geotiff_input_keeps_band_descriptions(tmp_path):
    src = write_sample_geotiff(tmp_path / "in.tif", rows=200, cols=300, dtype=np.uint16)
    result = export_geotiff(src, str(tmp_path / "out"), tile_size=128)
    with rasterio.open(src) as a, rasterio.open(result.files[0]) as b:
        assert b.descriptions == SAMPLE_BANDS
        assert b.crs == a.crs and b.transform == a.transform and b.dtypes == a.dtypes
        np.testing.assert_array_equal(a.read(), b.read())


def test_crs_reprojects_a_georeferenced_input_like_export_image(tmp_path):
    src = write_sample_geotiff(tmp_path / "in.tif", rows=64, cols=64)
    result = export_geotiff(src, str(tmp_path / "out"), crs="EPSG:3857", scale=20)
    with rasterio.open(result.files[0]) as out:
        assert out.crs.to_epsg() == 3857
        assert out.transform.a == 20.0 and out.transform.c % 20 == 0 and out.transform.f % 20 == 0
        data = out.read(1, masked=True)
    # The warped GeoTIFF holds the same pixels as the TFRecord export on the same grid.
    tfr = geotfrecord.export_image(
        src, str(tmp_path / "tfr"), patch_dimensions=(data.shape[1], data.shape[0]), crs="EPSG:3857", scale=20
    )
    [record] = [geotfrecord.decode_example(r) for r in geotfrecord.read_records(tfr.files[0])]
    np.testing.assert_array_equal(record["B2"].reshape(data.shape), data.filled(0))
    result = export_geotiff(src, str(tmp_path / "same"), crs="EPSG:32633")  # its own CRS: nothing to do
    assert len(result.files) == 1


def test_band_selection_and_type_promotion(tmp_path):
    bands = {"u8": np.full((40, 50), 200, np.uint8), "i16": np.full((40, 50), -3, np.int16), "f": np.ones((40, 50))}
    result = export_geotiff(bands, str(tmp_path / "a"), bands=["i16", "u8"], crs=CRS, transform=TRANSFORM)
    data, _, profile, descriptions, *_ = _read(result.files[0])
    assert profile["dtype"] == "int16" and descriptions == ("i16", "u8")
    assert data[0].min() == -3 and data[1].max() == 200


def test_bool_band_is_written_as_uint8(tmp_path):
    result = export_geotiff(np.eye(32, dtype=bool)[None], str(tmp_path / "a"), crs=CRS, transform=TRANSFORM)
    data, _, profile, *_ = _read(result.files[0])
    assert profile["dtype"] == "uint8"
    np.testing.assert_array_equal(data[0], np.eye(32, dtype=np.uint8))


def test_array_bands_are_rejected(tmp_path):
    bands = {"a": np.zeros((10, 10), np.float32), "arr": ArrayBand(np.zeros((3, 10, 10), np.float32))}
    with pytest.raises(OptionsError) as err:
        export_geotiff(bands, str(tmp_path / "a"))
    assert err.value.field == "image.arr"
    assert _files_in(tmp_path) == []


def test_integer_bands_without_a_common_integer_type_are_rejected(tmp_path):
    bands = {"a": np.zeros((4, 4), np.int64), "b": np.zeros((4, 4), np.uint64)}
    with pytest.raises(OptionsError, match="cast them first"):
        export_geotiff(bands, str(tmp_path / "a"))


def test_ungeoreferenced_array_is_written_without_georeferencing(tmp_path):
    result = export_geotiff(np.ones((1, 20, 20), np.float32), str(tmp_path / "a"))
    with pytest.warns(rasterio.errors.NotGeoreferencedWarning), rasterio.open(result.files[0]) as ds:
        assert ds.crs is None


# ---------------------------------------------------------------- pieces


def test_split_names_offsets_transforms_and_pixels(tmp_path, image):
    prefix = str(tmp_path / "scene")
    result = _export(image, prefix, file_dimensions=(256, 128), tile_size=128)
    expected = [(y, x) for y in (0, 128, 256) for x in (0, 256, 512)]
    assert result.offsets == tuple(expected)
    assert result.files == tuple(geotiff_piece_name(prefix, y, x) for y, x in expected)
    assert os.path.basename(result.files[1]) == "scene-0000000000-0000000256.tif"
    assert result.total_files == 9
    for path, (y0, x0) in zip(result.files, expected, strict=True):
        data, _, profile, descriptions, *_ = _read(path)
        h, w = min(128, ROWS - y0), min(256, COLS - x0)
        assert data.shape == (3, h, w)
        np.testing.assert_array_equal(data, image[:, y0 : y0 + h, x0 : x0 + w])
        assert profile["transform"] == _piece_transform(y0, x0)
        assert profile["crs"].to_epsg() == 32633
        assert descriptions == tuple(NAMES)
        with rasterio.open(path) as ds:
            assert ds.block_shapes[0] == (128, 128)
            # The piece's georeferencing puts its top-left pixel where it is in the whole image.
            a, b, c, d, e, f = TRANSFORM
            assert ds.xy(0, 0, offset="ul") == pytest.approx((c + a * x0 + b * y0, f + d * x0 + e * y0))
    assert _files_in(tmp_path) == sorted(os.path.basename(f) for f in result.files)


def test_square_file_dimensions_from_one_integer(tmp_path, image):
    result = _export(image, str(tmp_path / "scene"), file_dimensions=256)
    assert result.offsets == ((0, 0), (0, 256), (0, 512), (256, 0), (256, 256), (256, 512))


def test_split_of_a_rotated_grid_offsets_both_axes(tmp_path):
    transform = (10.0, 2.0, 1000.0, 3.0, -10.0, 5000.0)
    result = export_geotiff(np.ones((1, 64, 64), np.float32), str(tmp_path / "r"), file_dimensions=32, tile_size=32,
                            crs=CRS, transform=transform)  # fmt: skip
    with rasterio.open(result.files[3]) as ds:
        assert result.offsets[3] == (32, 32)
        assert ds.transform == _piece_transform(32, 32, transform)


@pytest.mark.parametrize(
    ("dims", "field"), [((300, 256), "tileDimensions.width"), ((256, 100), "tileDimensions.height")]
)
def test_file_dimensions_must_be_multiples_of_the_tile_size(tmp_path, image, dims, field):
    with pytest.raises(OptionsError) as err:
        _export(image, str(tmp_path / "scene"), file_dimensions=dims)
    assert err.value.field == field and "multiple of the tile size 256" in str(err.value)
    assert _files_in(tmp_path) == []


def test_non_multiple_errors_name_the_field_in_each_spelling():
    with pytest.raises(OptionsError) as err:
        GeoTiffOptions.from_rest({"tileDimensions": {"width": 512, "height": 200}}, prefix="geoTiffOptions.")
    assert err.value.field == "geoTiffOptions.tileDimensions.height"
    with pytest.raises(OptionsError) as err:
        GeoTiffOptions.from_format_options({"fileDimensions": [100, 512], "shardSize": 64})
    assert err.value.field == "fileDimensions[0]"
    with pytest.raises(OptionsError) as err:
        GeoTiffOptions.from_format_options({"fileDimensions": 96, "shardSize": 64})
    assert err.value.field == "fileDimensions[0]"


# ---------------------------------------------------------------- masks


def _mask_top_left(rows: int = ROWS, cols: int = COLS) -> np.ndarray:
    mask = np.zeros((rows, cols), dtype=bool)
    mask[:128, :256] = True  # exactly the first piece of a 256 x 128 split
    mask[200:210, 300:310] = True  # a few pixels elsewhere
    return mask


def test_skip_empty_files_leaves_out_fully_masked_pieces(tmp_path, image):
    prefix = str(tmp_path / "scene")
    result = _export(image, prefix, file_dimensions=(256, 128), tile_size=128, skip_empty_files=True,
                     mask=_mask_top_left())  # fmt: skip
    first = geotiff_piece_name(prefix, 0, 0)
    assert result.skipped == (first,)
    assert first not in result.files and len(result.files) == 8 and result.total_files == 9
    assert result.offsets[0] == (0, 256)
    assert not os.path.exists(first)
    assert _files_in(tmp_path) == sorted(os.path.basename(f) for f in result.files)


def test_without_skip_empty_files_a_fully_masked_piece_is_written(tmp_path, image):
    prefix = str(tmp_path / "scene")
    result = _export(image, prefix, file_dimensions=(256, 128), tile_size=128, mask=_mask_top_left())
    assert result.skipped == () and len(result.files) == 9
    data, mask, *_ = _read(geotiff_piece_name(prefix, 0, 0))
    assert not mask.any() and not data.any()


def test_no_data_absent_masked_pixels_are_zero_with_an_internal_mask(tmp_path, image):
    mask = _mask_top_left()
    result = _export(image, str(tmp_path / "scene"), mask=mask, tile_size=64)
    data, read_mask, profile, _, flags, _ = _read(result.files[0])
    assert profile["nodata"] is None
    assert all(f == [MaskFlags.per_dataset] for f in flags)
    np.testing.assert_array_equal(read_mask, np.where(mask, 0, 255))
    assert (data[:, mask] == 0).all()
    np.testing.assert_array_equal(data[:, ~mask], image[:, ~mask])
    assert not [n for n in _files_in(tmp_path) if n.endswith(".msk")]  # internal, not a sidecar


def test_mask_started_after_the_first_strip_marks_earlier_strips_valid(tmp_path, monkeypatch, image):
    import geotfrecord.geotiff as geotiff

    monkeypatch.setattr(geotiff, "STRIP_BUDGET", 1)  # strips of one tile row: the mask begins in strip 4
    mask = np.zeros((ROWS, COLS), dtype=bool)
    mask[250:, 10:20] = True
    result = _export(image, str(tmp_path / "scene"), mask=mask, tile_size=64)
    _, read_mask, *_ = _read(result.files[0])
    np.testing.assert_array_equal(read_mask, np.where(mask, 0, 255))


def test_per_band_masks_mask_a_pixel_masked_in_every_band(tmp_path, image):
    mask = np.zeros((3, ROWS, COLS), dtype=bool)
    mask[0, :10] = True  # band 0 only: still valid in the others
    mask[:, 20:30] = True  # every band
    result = _export(image, str(tmp_path / "scene"), mask=mask)
    data, read_mask, *_ = _read(result.files[0])
    assert (read_mask[:10] == 255).all() and (read_mask[20:30] == 0).all()
    assert (data[0, :10] == 0).all()
    np.testing.assert_array_equal(data[1:, :10], image[1:, :10])


def test_no_data_float_value(tmp_path, image):
    mask = _mask_top_left()
    options = GeoTiffOptions.from_rest({"noData": {"floatValue": -9999.5}})
    result = _export(image, str(tmp_path / "scene"), mask=mask, format_options=options)
    data, read_mask, profile, _, flags, _ = _read(result.files[0])
    assert profile["nodata"] == -9999.5
    assert all(f == [MaskFlags.nodata] for f in flags)
    assert (data[:, mask] == np.float32(-9999.5)).all()
    np.testing.assert_array_equal(read_mask, np.where(mask, 0, 255))


def test_no_data_nan_float_value(tmp_path, image):
    result = _export(image, str(tmp_path / "scene"), mask=_mask_top_left(),
                     format_options={"noData": {"floatValue": "NaN"}})  # fmt: skip
    data, _, profile, *_ = _read(result.files[0])
    assert np.isnan(profile["nodata"]) and np.isnan(data[:, :128, :256]).all()


def test_no_data_integer_value(tmp_path):
    band = np.arange(100 * 120, dtype=np.int32).reshape(100, 120).astype(np.int16)
    mask = np.zeros(band.shape, dtype=bool)
    mask[5:50, 7:30] = True
    options = GeoTiffOptions.from_rest({"noData": {"integerValue": "-32768"}, "tileSize": 64})
    assert options.no_data == -32768 and isinstance(options.no_data, int)
    result = export_geotiff({"dem": band}, str(tmp_path / "dem"), mask=mask, crs=CRS, transform=TRANSFORM,
                            format_options=options)  # fmt: skip
    data, read_mask, profile, descriptions, *_ = _read(result.files[0])
    assert profile["dtype"] == "int16" and profile["nodata"] == -32768 and descriptions == ("dem",)
    assert (data[0][mask] == -32768).all()
    np.testing.assert_array_equal(data[0][~mask], band[~mask])
    np.testing.assert_array_equal(read_mask, np.where(mask, 0, 255))


@pytest.mark.parametrize(("no_data", "dtype"), [(-1, np.uint8), (256, np.uint8), (1.5, np.int16), (1e39, np.float32)])
def test_no_data_that_the_type_cannot_hold_is_rejected(tmp_path, no_data, dtype):
    with pytest.raises(OptionsError) as err:
        export_geotiff(np.zeros((1, 8, 8), dtype), str(tmp_path / "a"), no_data=no_data)
    assert err.value.field == "noData"
    assert _files_in(tmp_path) == []


def test_no_data_from_a_geotiff_input_mask(tmp_path):
    src = write_sample_geotiff(tmp_path / "in.tif", rows=64, cols=64, nodata=0.0)
    with rasterio.open(src, "r+") as ds:
        ds.write(np.zeros((4, 10, 64), np.float32), window=rasterio.windows.Window(0, 0, 64, 10))
    result = export_geotiff(src, str(tmp_path / "out"), no_data=-1.0, tile_size=32)
    data, read_mask, profile, *_ = _read(result.files[0])
    assert profile["nodata"] == -1.0 and (data[:, :10] == -1).all() and (read_mask[:10] == 0).all()


# ---------------------------------------------------------------- Cloud Optimized GeoTIFF


def _structurally_cog(path: str) -> bool:
    """The parts of GDAL's validate_cloud_optimized_geotiff that matter here, without rio-cogeo."""
    with rasterio.open(path) as ds:
        tiled = all(h == w and h > 1 for h, w in ds.block_shapes) and ds.profile.get("tiled", False)
        overviews_needed = max(ds.width, ds.height) > ds.block_shapes[0][0]
        overviews = bool(ds.overviews(1)) or not overviews_needed
        return tiled and overviews and ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_cloud_optimized_is_a_valid_cog(tmp_path):
    image = synthetic_image(3, 700, 600, seed=2)
    result = _export(image, str(tmp_path / "cog"), cloud_optimized=True, tile_size=128, mask=_mask_top_left(700, 600))
    path = result.files[0]
    data, read_mask, profile, descriptions, flags, overviews = _read(path)
    mask = _mask_top_left(700, 600)
    np.testing.assert_array_equal(data, np.where(mask[None], np.float32(0), image))
    np.testing.assert_array_equal(read_mask, np.where(mask, 0, 255))
    assert descriptions == tuple(NAMES) and profile["crs"].to_epsg() == 32633
    assert profile["transform"] == Affine(*TRANSFORM) and profile["blockxsize"] == 128
    assert overviews and all(f == [MaskFlags.per_dataset] for f in flags)
    assert _structurally_cog(path)
    assert _files_in(tmp_path) == ["cog.tif"]
    cogeo = pytest.importorskip("rio_cogeo.cogeo")
    valid, errors, warnings = cogeo.cog_validate(path, strict=True, quiet=True)
    assert valid, (errors, warnings)


def test_plain_geotiff_is_not_taken_for_a_cog(tmp_path):
    """The checks above must tell the two apart, or they prove nothing."""
    result = _export(synthetic_image(1, 700, 600), str(tmp_path / "plain"), band_names=["a"], tile_size=128)
    assert not _structurally_cog(result.files[0])
    cogeo = pytest.importorskip("rio_cogeo.cogeo")
    assert not cogeo.cog_validate(result.files[0], strict=True, quiet=True)[0]


def test_cloud_optimized_pieces_with_no_data(tmp_path, image):
    prefix = str(tmp_path / "scene")
    result = _export(image, prefix, cloud_optimized=True, file_dimensions=(512, 256), tile_size=128, no_data=-1.0,
                     mask=_mask_top_left())  # fmt: skip
    assert result.offsets == ((0, 0), (0, 512), (256, 0), (256, 512))
    cogeo = pytest.importorskip("rio_cogeo.cogeo")
    for path, (y0, x0) in zip(result.files, result.offsets, strict=True):
        data, _, profile, *_ = _read(path)
        assert profile["nodata"] == -1.0 and profile["transform"] == _piece_transform(y0, x0)
        expected = np.where(_mask_top_left()[None], np.float32(-1), image)[:, y0 : y0 + 256, x0 : x0 + 512]
        np.testing.assert_array_equal(data, expected)
        assert cogeo.cog_validate(path, quiet=True)[0]
    assert _files_in(tmp_path) == sorted(os.path.basename(f) for f in result.files)


# ---------------------------------------------------------------- options


def test_options_in_both_spellings_are_equal():
    rest = GeoTiffOptions.from_rest(
        {
            "cloudOptimized": True,
            "tileDimensions": {"width": 512, "height": 1024},
            "skipEmptyFiles": True,
            "tileSize": {"value": 128},
            "noData": {"floatValue": -1},
        }
    )
    ee = GeoTiffOptions.from_format_options(
        {"cloudOptimized": True, "fileDimensions": [512, 1024], "skipEmptyTiles": True, "shardSize": 128, "noData": -1}
    )
    keywords = GeoTiffOptions(cloud_optimized=True, file_dimensions=(512, 1024), skip_empty_files=True, tile_size=128,
                              no_data=-1.0)  # fmt: skip
    assert rest == ee == keywords
    assert GeoTiffOptions.from_rest(rest.to_rest()) == rest
    assert GeoTiffOptions.from_format_options(rest.to_format_options()) == rest
    assert GeoTiffOptions.from_any(rest.to_rest()) == GeoTiffOptions.from_any(rest.to_format_options()) == rest
    assert GeoTiffOptions.from_rest({}) == GeoTiffOptions()
    assert GeoTiffOptions().tile_size == 256 and GeoTiffOptions().file_dimensions is None
    assert GeoTiffOptions.from_rest({"noData": {"integerValue": "7"}}).to_rest()["noData"] == {"integerValue": "7"}


@pytest.mark.parametrize(
    ("rest", "field"),
    [
        ({"cloudOptimised": True}, "geoTiffOptions.cloudOptimised"),
        ({"tileDimensions": {"width": 256, "heigth": 256}}, "geoTiffOptions.tileDimensions.heigth"),
        ({"tileDimensions": {"width": 256}}, "geoTiffOptions.tileDimensions.height"),
        ({"tileDimensions": [256, 256]}, "geoTiffOptions.tileDimensions"),
        ({"tileDimensions": {"width": 0, "height": 256}}, "geoTiffOptions.tileDimensions.width"),
        ({"tileSize": 100}, "geoTiffOptions.tileSize"),
        ({"tileSize": "256"}, "geoTiffOptions.tileSize"),
        ({"tileSize": {"val": 256}}, "geoTiffOptions.tileSize.val"),
        ({"skipEmptyFiles": "true"}, "geoTiffOptions.skipEmptyFiles"),
        ({"cloudOptimized": 1}, "geoTiffOptions.cloudOptimized"),
        ({"noData": -1}, "geoTiffOptions.noData"),
        ({"noData": {}}, "geoTiffOptions.noData"),
        ({"noData": {"floatValue": 1, "integerValue": "1"}}, "geoTiffOptions.noData"),
        ({"noData": {"doubleValue": 1.0}}, "geoTiffOptions.noData.doubleValue"),
        ({"noData": {"floatValue": "1"}}, "geoTiffOptions.noData.floatValue"),
        ({"noData": {"integerValue": "1.5"}}, "geoTiffOptions.noData.integerValue"),
        ({"noData": {"integerValue": str(2**63)}}, "geoTiffOptions.noData.integerValue"),
        ({"skipEmptyTiles": True}, "geoTiffOptions.skipEmptyTiles"),  # ee.batch spelling in REST
    ],
)
def test_rest_errors_name_the_json_path(rest, field):
    with pytest.raises(OptionsError) as err:
        GeoTiffOptions.from_rest(rest, prefix="geoTiffOptions.")
    assert err.value.field == field


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"fileDimensions": [256]}, "fileDimensions"),
        ({"fileDimensions": "256"}, "fileDimensions"),
        ({"fileDimensions": [256, -256]}, "fileDimensions[1]"),
        ({"shardSize": 0}, "shardSize"),
        ({"noData": "none"}, "noData"),
        ({"skipEmptyFiles": True}, "skipEmptyFiles"),
        ({"tileSize": 256, "shardSize": 256}, "tileSize"),
    ],
)
def test_format_options_errors(options, field):
    with pytest.raises(OptionsError) as err:
        GeoTiffOptions.from_format_options(options)
    assert err.value.field == field


def test_mixed_spellings_and_doubled_options_are_rejected(tmp_path, image):
    with pytest.raises(OptionsError, match="mixed"):
        GeoTiffOptions.from_any({"tileSize": 256, "fileDimensions": 512})
    with pytest.raises(OptionsError) as err:
        _export(image, str(tmp_path / "a"), tile_size=128, format_options={"shardSize": 128})
    assert err.value.field == "tile_size"


# ---------------------------------------------------------------- output


def test_memory_destination(image):
    fsspec = pytest.importorskip("fsspec")
    prefix = "memory://geotiff-test/scene"
    result = _export(image, prefix, file_dimensions=256, tile_size=128)
    try:
        assert result.files[0] == "memory://geotiff-test/scene-0000000000-0000000000.tif"
        fs = fsspec.filesystem("memory")
        assert sorted(fs.ls("/geotiff-test", detail=False)) == sorted(f[len("memory:/") :] for f in result.files)
        for path, (y0, x0) in zip(result.files, result.offsets, strict=True):
            with fsspec.open(path, "rb") as f, rasterio.MemoryFile(f.read()) as mem, mem.open() as ds:
                np.testing.assert_array_equal(ds.read(), image[:, y0 : y0 + 256, x0 : x0 + 256])
                assert ds.transform == _piece_transform(y0, x0) and ds.descriptions == tuple(NAMES)
    finally:
        fsspec.filesystem("memory").rm("/geotiff-test", recursive=True)


def test_failed_export_leaves_nothing(tmp_path, image):
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if done == 2:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        _export(image, str(tmp_path / "scene"), file_dimensions=256, progress=progress)
    assert calls == [(1, 6), (2, 6)]
    assert _files_in(tmp_path) == []


def test_failed_memory_export_removes_uploaded_pieces(image):
    fsspec = pytest.importorskip("fsspec")

    def progress(done: int, total: int) -> None:
        if done == 3:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        _export(image, "memory://geotiff-fail/scene", file_dimensions=256, progress=progress)
    assert not fsspec.filesystem("memory").exists("/geotiff-fail/scene-0000000000-0000000000.tif")


def test_progress_and_no_temporaries_left(tmp_path, image):
    calls = []
    result = _export(image, str(tmp_path / "out" / "scene"), file_dimensions=256, progress=lambda d, t: calls.append(d))
    assert calls == [1, 2, 3, 4, 5, 6]
    assert not [n for n in _files_in(tmp_path / "out") if n.endswith(TEMP_SUFFIX)]
    assert len(result.files) == 6
