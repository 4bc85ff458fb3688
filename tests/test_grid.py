"""Export.image's output grid: region, crs, scale, crsTransform, dimensions, maxPixels, compared with
GDAL's own warp of the same grid."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.features import geometry_mask
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds

import geotfrecord
from geotfrecord.grid import resolve_grid, shifted
from geotfrecord.samples import write_sample_geotiff
from geotfrecord.sources import open_source


@pytest.fixture(scope="module")
def utm_tif(tmp_path_factory):
    return write_sample_geotiff(tmp_path_factory.mktemp("grid") / "utm.tif", rows=300, cols=400)


def _triangle_4326(tif):
    with rasterio.open(tif) as ds:
        w, s, e, n = transform_bounds(ds.crs, "EPSG:4326", *ds.bounds)
    # A triangle well inside the image, so that no buffer reaches past the data.
    dx, dy = (e - w) / 6, (n - s) / 6
    return {
        "type": "Polygon",
        "coordinates": [[[w + dx, s + dy], [e - dx, s + dy], [w + dx, n - dy], [w + dx, s + dy]]],
    }


def _decoded(result):
    return [geotfrecord.decode_example(r) for f in result.files for r in geotfrecord.read_records(f)]


def test_polygon_region_crs_scale_and_kernel_match_gdal_warp(utm_tif, tmp_path):
    region = _triangle_4326(utm_tif)
    result = geotfrecord.export_image(
        utm_tif,
        str(tmp_path / "warped"),
        patch_dimensions=(32, 32),
        kernel_size=(8, 8),
        region=region,
        crs="EPSG:3857",
        scale=15,
        default_value=-999,
        compressed=False,
    )
    mixer = json.loads((tmp_path / "warped-mixer.json").read_text())
    assert mixer["projection"]["crs"] == "EPSG:3857"
    a, b, c, d, e, f = mixer["projection"]["affine"]["doubleMatrix"]
    assert (a, b, d, e) == (15.0, 0.0, 0.0, -15.0)
    assert c % 15 == 0 and f % 15 == 0  # the grid snaps to multiples of the scale, as Earth Engine's does
    per_row, total = mixer["patchesPerRow"], mixer["totalPatches"]
    rows = total // per_row
    grid = (a, b, c, d, e, f)

    # The reference: nearest neighbour written out — each output pixel centre, transformed exactly to
    # UTM, takes the source pixel that contains it (the rule GDAL's warper applies).
    pad = 4
    height, width = rows * 32 + 2 * pad, per_row * 32 + 2 * pad
    ref_transform = Affine(*shifted(grid, -pad, -pad))
    cols, rows_ = np.meshgrid(np.arange(width) + 0.5, np.arange(height) + 0.5)
    xs, ys = ref_transform.c + cols * ref_transform.a, ref_transform.f + rows_ * ref_transform.e
    ux, uy = warp_transform("EPSG:3857", "EPSG:32633", xs.ravel(), ys.ravel())
    with rasterio.open(utm_tif) as src:
        pixels, t = src.read(), src.transform
    sc = np.floor((np.asarray(ux) - t.c) / t.a).astype(int).reshape(height, width)
    sr = np.floor((np.asarray(uy) - t.f) / t.e).astype(int).reshape(height, width)
    assert sc.min() >= 0 and sr.min() >= 0 and sc.max() < pixels.shape[2] and sr.max() < pixels.shape[1]
    expected = pixels[:, sr, sc]
    from rasterio.warp import transform_geom

    outside = geometry_mask([transform_geom("EPSG:4326", "EPSG:3857", region)], (height, width), ref_transform)
    expected[:, outside] = -999
    records = _decoded(result)
    assert len(records) == total
    for k, record in enumerate(records):
        r, cidx = divmod(k, per_row)
        window = expected[:, r * 32 : r * 32 + 40, cidx * 32 : cidx * 32 + 40]
        for i, band in enumerate(("B2", "B3", "B4", "B8")):
            np.testing.assert_array_equal(record[band].reshape(40, 40), window[i])
    # Pixels outside the polygon really are the default, and inside there is data.
    assert (expected == -999).any() and (expected != -999).any()


def test_crs_transform_becomes_the_mixer_affine(utm_tif, tmp_path):
    with rasterio.open(utm_tif) as ds:
        left, top = ds.bounds.left + 500, ds.bounds.top - 300
    crs_transform = [20.0, 0.0, left, 0.0, -20.0, top]
    result = geotfrecord.export_image(
        utm_tif, str(tmp_path / "ct"), patch_dimensions=(16, 16), crs="EPSG:32633", crs_transform=crs_transform,
        dimensions=(64, 48),
    )  # fmt: skip
    mixer = geotfrecord.Mixer.load(result.mixer)
    assert list(mixer.affine) == crs_transform
    assert (mixer.patches_per_row, mixer.total_patches) == (4, 12)


def test_region_on_the_source_grid_is_an_exact_crop(utm_tif, tmp_path):
    with rasterio.open(utm_tif) as ds:
        t = ds.transform
        pixels = ds.read()
    # A UTM bounding box covering columns 50..250 and rows 40..140 exactly.
    box = [t.c + 50 * t.a, t.f + 140 * t.e, t.c + 250 * t.a, t.f + 40 * t.e]
    result = geotfrecord.export_image(
        utm_tif, str(tmp_path / "crop"), patch_dimensions=(50, 50), region=box, region_crs="EPSG:32633"
    )
    mixer = geotfrecord.Mixer.load(result.mixer)
    assert mixer.affine == (t.a, 0.0, t.c + 50 * t.a, 0.0, t.e, t.f + 40 * t.e)
    assert (mixer.patches_per_row, mixer.total_patches) == (4, 8)
    first = _decoded(result)[0]["B3"].reshape(50, 50)
    np.testing.assert_array_equal(first, pixels[1, 40:90, 50:100])


def test_max_pixels_refuses_before_writing(utm_tif, tmp_path):
    with pytest.raises(geotfrecord.OptionsError, match=r"maxPixels.*120,000 pixels.*raise max_pixels") as info:
        geotfrecord.export_image(utm_tif, str(tmp_path / "big"), patch_dimensions=(16, 16), max_pixels=1000)
    assert info.value.field == "maxPixels"
    assert list(tmp_path.iterdir()) == []
    # The Earth Engine default (1e8) lets a normal image through.
    geotfrecord.export_image(utm_tif, str(tmp_path / "ok"), patch_dimensions=(100, 100))


def test_dimensions_and_geographic_scale():
    src = open_source(
        np.zeros((1, 100, 200), np.float32), crs="EPSG:4326", transform=(0.01, 0.0, 10.0, 0.0, -0.01, 50.0)
    )
    grid = resolve_grid(src, dimensions=50)
    assert (grid.width, grid.height) == (50, 25)
    assert grid.transform[0] == pytest.approx(0.04)
    grid = resolve_grid(src, dimensions="20x10")
    assert (grid.width, grid.height) == (20, 10)
    # A scale in metres on a geographic CRS becomes degrees at the equator (111319.49 m per degree).
    grid = resolve_grid(src, scale=111319.49079327357 * 0.05)
    assert grid.transform[0] == pytest.approx(0.05)
    assert (grid.width, grid.height) == (40, 20)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"scale": -5}, "scale"),
        ({"crs_transform": [1, 2, 3]}, "crsTransform"),
        ({"dimensions": "abc"}, "dimensions"),
        ({"region": [5, 5, 1, 1]}, "region"),
        ({"region": {"type": "Point", "coordinates": [0, 0]}}, "region"),
        ({"resampling": "magic", "crs": "EPSG:3857"}, "resampling"),
    ],
)
def test_bad_grid_options_name_the_field(utm_tif, tmp_path, kwargs, field):
    with pytest.raises(geotfrecord.OptionsError) as info:
        geotfrecord.export_image(utm_tif, str(tmp_path / "x"), patch_dimensions=(16, 16), **kwargs)
    assert info.value.field == field
    assert list(tmp_path.iterdir()) == []


def test_array_input_is_warped_with_its_mask(tmp_path):
    image = np.ma.masked_array(np.arange(60 * 80, dtype=np.float32).reshape(1, 60, 80))
    image.mask = np.zeros(image.shape, bool)
    image.mask[0, :10, :] = True
    result = geotfrecord.export_image(
        image, str(tmp_path / "arr"), patch_dimensions=(20, 20), crs="EPSG:32633",
        transform=(10.0, 0.0, 500000.0, 0.0, -10.0, 4000000.0), scale=20, default_value=-1,
    )  # fmt: skip
    mixer = geotfrecord.Mixer.load(result.mixer)
    assert mixer.affine == (20.0, 0.0, 500000.0, 0.0, -20.0, 4000000.0)
    first = _decoded(result)[0]["b1"].reshape(20, 20)
    assert (first[:5] == -1).all()  # the masked rows of the array, at half resolution
    assert (first[5:] >= 0).all()
