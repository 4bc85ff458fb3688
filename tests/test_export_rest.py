"""export(): Earth Engine's REST ImageFileExportOptions, validated whole, to local folders and object stores."""

from __future__ import annotations

import contextlib
import json
import os
import socket

import numpy as np
import pytest

from geotfrecord import DestinationError, OptionsError, export_image
from geotfrecord.export import IMAGE_FILE_FORMATS, ImageFileExportOptions, export
from geotfrecord.geotiff import GeoTiffOptions, GeoTiffResult, export_geotiff
from geotfrecord.image_export import ExportResult
from geotfrecord.options import TFRecordOptions
from geotfrecord.samples import SAMPLE_CRS, sample_transform, synthetic_image

rasterio = pytest.importorskip("rasterio")
fsspec = pytest.importorskip("fsspec")

GEO = {"fileFormat": "GEO_TIFF", "driveDestination": {"folder": "out", "filenamePrefix": "scene"}}
TFR = {
    "fileFormat": "TF_RECORD_IMAGE",
    "driveDestination": {"folder": "out", "filenamePrefix": "scene"},
    "tfRecordOptions": {"tileDimensions": {"width": 32, "height": 32}},
}
# The same export in the two spellings, the REST one as Earth Engine's Python client writes it.
EE_TFRECORD = {
    "patchDimensions": [32, 16],
    "kernelSize": [8, 4],
    "compressed": True,
    "maxFileSize": 20000,
    "defaultValue": -1.5,
    "maskedThreshold": 1,
}
REST_TFRECORD = {
    "tileDimensions": {"width": 32, "height": 16},
    "marginDimensions": {"width": 8, "height": 4},
    "compress": True,
    "maxSizeBytes": {"value": "20000"},
    "defaultValue": -1.5,
    "maxMaskedRatio": {"value": 1},
}
EE_GEOTIFF = {"cloudOptimized": True, "fileDimensions": [128, 64], "skipEmptyTiles": True, "shardSize": 64}
REST_GEOTIFF = {
    "cloudOptimized": True,
    "tileDimensions": {"width": 128, "height": 64},
    "skipEmptyFiles": True,
    "tileSize": {"value": 64},
}


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    return synthetic_image(3, 100, 150, seed=3)


@pytest.fixture(scope="module")
def mask() -> np.ndarray:
    m = np.zeros((100, 150), dtype=bool)
    m[:64, :128] = True  # the first GeoTIFF piece, entirely
    m[70:80, 5:9] = True
    return m


GEOREF = {"band_names": ["a", "b", "c"], "crs": SAMPLE_CRS, "transform": sample_transform()}


def _with(base: dict, **changes) -> dict:
    out = json.loads(json.dumps(base))
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def _gcs(**fields) -> dict:
    """GEO_TIFF to Cloud Storage, with ``fields`` added to (or replacing those of) a valid destination."""
    return _with(GEO, driveDestination=None, cloudStorageDestination={"bucket": "bkt", "filenamePrefix": "p", **fields})


def _tree(folder) -> dict[str, bytes]:
    out = {}
    for root, _, files in os.walk(folder):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder)] = f.read()
    return out


BUCKET = "geotfrecord-tests"

# ---------------------------------------------------------------- the equivalence with the direct calls


def test_tfrecord_is_byte_identical_to_export_image(tmp_path, image, mask):
    options = _with(TFR, tfRecordOptions=REST_TFRECORD)
    result = export(image, options, destination=str(tmp_path / "rest" / "scene"), mask=mask, **GEOREF)
    direct = export_image(image, str(tmp_path / "ee" / "scene"), format_options=EE_TFRECORD, mask=mask, **GEOREF)
    assert isinstance(result, ExportResult)
    assert result.options == direct.options == TFRecordOptions.from_format_options(EE_TFRECORD)
    rest, ee = _tree(tmp_path / "rest"), _tree(tmp_path / "ee")
    assert len(result.files) > 1  # maxSizeBytes really shards
    assert (
        sorted(rest)
        == sorted(ee)
        == sorted([os.path.basename(f) for f in result.files] + [os.path.basename(result.mixer)])
    )
    assert rest == ee


def test_geotiff_matches_export_geotiff(tmp_path, image, mask):
    options = _with(GEO, geoTiffOptions=REST_GEOTIFF)
    result = export(image, options, destination=str(tmp_path / "rest" / "scene"), mask=mask, **GEOREF)
    direct = export_geotiff(image, str(tmp_path / "ee" / "scene"), format_options=EE_GEOTIFF, mask=mask, **GEOREF)
    assert isinstance(result, GeoTiffResult)
    assert result.options == direct.options == GeoTiffOptions.from_format_options(EE_GEOTIFF)
    assert result.offsets == direct.offsets == ((0, 128), (64, 0), (64, 128))  # (0, 0) fully masked, skipped
    assert [os.path.basename(f) for f in result.skipped] == ["scene-0000000000-0000000000.tif"]
    rest, ee = _tree(tmp_path / "rest"), _tree(tmp_path / "ee")
    assert sorted(rest) == sorted(ee) == sorted(os.path.basename(f) for f in result.files)
    for name in rest:
        with rasterio.open(tmp_path / "rest" / name) as a, rasterio.open(tmp_path / "ee" / name) as b:
            np.testing.assert_array_equal(a.read(), b.read())
            assert a.profile == b.profile and a.descriptions == ("a", "b", "c")
            assert a.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"


def test_geotiff_defaults_without_geotiff_options(tmp_path, image):
    result = export(image, GEO, destination=str(tmp_path / "scene"), **GEOREF)
    assert result.options == GeoTiffOptions()
    assert [os.path.basename(f) for f in result.files] == ["scene.tif"]


# ---------------------------------------------------------------- destinations and ways to give the JSON


def test_drive_destination_is_folder_slash_prefix(tmp_path, monkeypatch, image):
    monkeypatch.chdir(tmp_path)
    result = export(image, TFR, **GEOREF)
    assert result.files == (os.path.join("out", "scene-00000.tfrecord.gz"),)
    assert os.path.isfile(tmp_path / "out" / "scene-00000.tfrecord.gz")
    assert os.path.isfile(tmp_path / "out" / "scene-mixer.json")


def test_drive_destination_without_folder_is_the_current_directory(tmp_path, monkeypatch, image):
    monkeypatch.chdir(tmp_path)
    result = export(image, _with(GEO, driveDestination={"filenamePrefix": "here"}), **GEOREF)
    assert result.files == ("here.tif",) and os.path.isfile(tmp_path / "here.tif")


def test_trailing_slash_prefix_is_a_folder(tmp_path, monkeypatch, image):
    monkeypatch.chdir(tmp_path)
    result = export(image, _with(TFR, driveDestination={"folder": "out", "filenamePrefix": "run1/"}), **GEOREF)
    assert result.files == (os.path.join("out", "run1", "00000.tfrecord.gz"),)


@pytest.mark.parametrize(
    ("destination", "prefix"),
    [
        ({"driveDestination": {"folder": "exports", "filenamePrefix": "scene"}}, os.path.join("exports", "scene")),
        ({"driveDestination": {"filenamePrefix": "scene"}}, "scene"),
        ({"driveDestination": {"folder": "", "filenamePrefix": "a/b"}}, "a/b"),
        ({"cloudStorageDestination": {"bucket": "my-bucket", "filenamePrefix": "x/scene"}}, "gs://my-bucket/x/scene"),
        ({"cloudStorageDestination": {"bucket": "my-bucket", "filenamePrefix": "folder/"}}, "gs://my-bucket/folder/"),
        (
            {
                "cloudStorageDestination": {
                    "bucket": "b.example.com",
                    "filenamePrefix": "s",
                    "permissions": "DEFAULT_OBJECT_ACL",
                    "bucketCorsUris": [],
                }
            },
            "gs://b.example.com/s",
        ),
    ],
)
def test_destinations_resolve_to_prefixes(destination, prefix):
    request = ImageFileExportOptions.from_rest({"fileFormat": "GEO_TIFF", **destination})
    assert request.destination == prefix and request.file_format == "GEO_TIFF"


def test_destination_override_replaces_and_may_replace_a_missing_destination():
    no_destination = _with(GEO, driveDestination=None)
    assert ImageFileExportOptions.from_rest(no_destination, destination="memory://x/y").destination == "memory://x/y"
    public = _gcs(permissions="PUBLIC", bucketCorsUris=["*"])
    request = ImageFileExportOptions.from_rest(public, destination="/tmp/elsewhere/p")
    assert request.destination == "/tmp/elsewhere/p"  # PUBLIC / CORS do not matter when the bucket is not used


def test_options_as_json_text_bytes_and_file(tmp_path, image):
    text = json.dumps(_with(TFR, tfRecordOptions=REST_TFRECORD))
    path = tmp_path / "options.json"
    path.write_text(text)
    expected = TFRecordOptions.from_format_options(EE_TFRECORD)
    for given in (text, text.encode(), str(path), path):
        assert ImageFileExportOptions.from_rest(given).format_options == expected
    result = export(image, path, destination=str(tmp_path / "f" / "scene"), **GEOREF)
    assert result.options == expected


def test_a_validated_request_can_be_passed_and_redirected(tmp_path, image):
    request = ImageFileExportOptions.from_rest(GEO)
    result = export(image, request, destination=str(tmp_path / "scene"), **GEOREF)
    assert result.files == (str(tmp_path / "scene.tif"),)


def test_memory_destination_geotiff(image, mask):
    options = _with(GEO, geoTiffOptions={"tileDimensions": {"width": 128, "height": 64}, "tileSize": 64})
    result = export(image, options, destination="memory://rest-geotiff/scene", mask=mask, **GEOREF)
    fs = fsspec.filesystem("memory")
    try:
        assert sorted(fs.find("/rest-geotiff")) == sorted(f[len("memory:/") :] for f in result.files)
        for path, (y0, x0) in zip(result.files, result.offsets, strict=True):
            with fsspec.open(path, "rb") as f, rasterio.MemoryFile(f.read()) as mem, mem.open() as ds:
                np.testing.assert_array_equal(ds.read_masks(1) == 0, mask[y0 : y0 + 64, x0 : x0 + 128])
                valid = ~mask[y0 : y0 + 64, x0 : x0 + 128]
                np.testing.assert_array_equal(ds.read()[:, valid], image[:, y0 : y0 + 64, x0 : x0 + 128][:, valid])
    finally:
        fs.rm("/rest-geotiff", recursive=True)


def test_memory_destination_tfrecord(tmp_path, image):
    options = _with(TFR, tfRecordOptions=REST_TFRECORD)
    fs = fsspec.filesystem("memory")
    try:
        result = export(image, options, destination="memory://rest-tfrecord/scene", **GEOREF)
        local = export_image(image, str(tmp_path / "scene"), format_options=EE_TFRECORD, **GEOREF)
        assert [os.path.basename(f) for f in result.files] == [os.path.basename(f) for f in local.files]
        for url, path in zip([*result.files, result.mixer], [*local.files, local.mixer], strict=True):
            with fsspec.open(url, "rb") as f, open(path, "rb") as g:
                assert f.read() == g.read()
    finally:
        with contextlib.suppress(FileNotFoundError):
            fs.rm("/rest-tfrecord", recursive=True)


def test_cloud_storage_without_gcsfs_fails_before_reading(image):
    try:
        import gcsfs  # noqa: F401
    except ImportError:
        pass
    else:  # pragma: no cover - depends on the environment
        pytest.skip("gcsfs is installed; writing to a real bucket is not tested")
    options = _with(GEO, driveDestination=None, cloudStorageDestination={"bucket": "bkt", "filenamePrefix": "s"})

    class Unreadable:  # reading it would fail differently
        __module__ = "numpy"

    with pytest.raises(DestinationError, match="gs://bkt/s"):
        export(Unreadable(), options)


# ---------------------------------------------------------------- every error path


ERRORS = [
    # the JSON itself
    (["not", "an", "object"], "options", "must be"),
    ("[1, 2]", "options", "must be an ImageFileExportOptions object"),
    ("{not json", "options", "not valid JSON"),
    ('{"fileFormat": "GEO_TIFF", "fileFormat": "GEO_TIFF"}', "fileFormat", "given twice"),
    # fileFormat
    (_with(GEO, fileFormat=None), "fileFormat", "required"),
    (_with(GEO, fileFormat=3), "fileFormat", "must be an ImageFileFormat string"),
    (_with(GEO, fileFormat="GEOTIFF"), "fileFormat", "did you mean 'GEO_TIFF'"),
    (_with(GEO, fileFormat="GeoTIFF"), "fileFormat", "unknown ImageFileFormat"),
    (_with(GEO, fileFormat="geo_tiff"), "fileFormat", "unknown ImageFileFormat"),
    # unknown keys at every depth
    (_with(GEO, fileformat="GEO_TIFF"), "fileformat", "unknown option; did you mean 'fileFormat'"),
    (_with(GEO, description="x"), "description", "unknown option"),
    (_with(GEO, driveDestination={"foldr": "x", "filenamePrefix": "p"}), "driveDestination.foldr", "unknown"),
    (
        _with(GEO, driveDestination=None, cloudStorageDestination={"bukket": "b", "filenamePrefix": "p"}),
        "cloudStorageDestination.bukket",
        "did you mean 'bucket'",
    ),
    (
        _with(TFR, tfRecordOptions={"tileDimensions": {"width": 32, "heigth": 32}}),
        "tfRecordOptions.tileDimensions.heigth",
        "unknown option",
    ),
    (
        _with(TFR, tfRecordOptions={"tileDimensions": {"width": 32, "height": 32}, "patchDimensions": [32, 32]}),
        "tfRecordOptions.patchDimensions",
        "unknown option",
    ),
    (
        _with(TFR, tfRecordOptions={"tileDimensions": {"width": 32, "height": 32}, "maxSizeBytes": {"val": "1"}}),
        "tfRecordOptions.maxSizeBytes.val",
        "unknown option",
    ),
    (_with(GEO, geoTiffOptions={"tileDimension": {"width": 256}}), "geoTiffOptions.tileDimension", "unknown"),
    (_with(GEO, geoTiffOptions={"noData": {"doubleValue": 0}}), "geoTiffOptions.noData.doubleValue", "unknown"),
    # union field destination
    (
        _with(GEO, cloudStorageDestination={"bucket": "bkt", "filenamePrefix": "p"}),
        "cloudStorageDestination",
        "union field destination",
    ),
    (_with(GEO, driveDestination=None), "destination", "required"),
    # union field format_options, and options of the wrong format
    (
        _with(GEO, geoTiffOptions={}, tfRecordOptions={"tileDimensions": {"width": 32, "height": 32}}),
        "tfRecordOptions",
        "union field format_options",
    ),
    (_with(GEO, tfRecordOptions=TFR["tfRecordOptions"]), "tfRecordOptions", "fileFormat GEO_TIFF; use geoTiffOptions"),
    (_with(TFR, tfRecordOptions=None, geoTiffOptions={}), "geoTiffOptions", "use tfRecordOptions"),
    (_with(TFR, tfRecordOptions=None), "tfRecordOptions.tileDimensions", "required"),
    # wrong types
    (_with(GEO, driveDestination="out/scene"), "driveDestination", "must be a DriveDestination object"),
    (_with(GEO, driveDestination={"folder": 5, "filenamePrefix": "p"}), "driveDestination.folder", "string"),
    (_with(GEO, driveDestination={"folder": "out"}), "driveDestination.filenamePrefix", "required"),
    (_with(GEO, driveDestination={"filenamePrefix": ""}), "driveDestination.filenamePrefix", "empty"),
    (_with(GEO, driveDestination={"filenamePrefix": "/etc/x"}), "driveDestination.filenamePrefix", "relative"),
    (
        _with(GEO, driveDestination=None, cloudStorageDestination={"bucket": 5, "filenamePrefix": "p"}),
        "cloudStorageDestination.bucket",
        "string",
    ),
    (
        _with(GEO, driveDestination=None, cloudStorageDestination={"bucket": "gs://bkt", "filenamePrefix": "p"}),
        "cloudStorageDestination.bucket",
        "bucket name",
    ),
    (
        _with(GEO, driveDestination=None, cloudStorageDestination={"filenamePrefix": "p"}),
        "cloudStorageDestination.bucket",
        "required",
    ),
    (_gcs(permissions="EVERYONE"), "cloudStorageDestination.permissions", "must be one of"),
    (_gcs(permissions="PUBLIC"), "cloudStorageDestination.permissions", "not applied"),
    (_gcs(bucketCorsUris="https://a.example"), "cloudStorageDestination.bucketCorsUris", "list of strings"),
    (_gcs(bucketCorsUris=[3]), "cloudStorageDestination.bucketCorsUris[0]", "string"),
    (_gcs(bucketCorsUris=["https://a.example"]), "cloudStorageDestination.bucketCorsUris", "CORS"),
    (_with(TFR, tfRecordOptions="32x32"), "tfRecordOptions", "must be an object"),
    (
        _with(TFR, tfRecordOptions={"tileDimensions": {"width": "32", "height": 32}}),
        "tfRecordOptions.tileDimensions.width",
        "positive integer",
    ),
    (
        _with(TFR, tfRecordOptions={"tileDimensions": {"width": 32, "height": 32}, "compress": 1}),
        "tfRecordOptions.compress",
        "true or false",
    ),
    (
        _with(TFR, tfRecordOptions={"tileDimensions": {"width": 32, "height": 32}, "maxMaskedRatio": 2}),
        "tfRecordOptions.maxMaskedRatio",
        "[0, 1]",
    ),
    (_with(GEO, geoTiffOptions=[]), "geoTiffOptions", "must be an object"),
    (_with(GEO, geoTiffOptions={"tileSize": "256"}), "geoTiffOptions.tileSize", "multiple of 16"),
    (_with(GEO, geoTiffOptions={"cloudOptimized": "yes"}), "geoTiffOptions.cloudOptimized", "true or false"),
    (
        _with(GEO, geoTiffOptions={"noData": {"integerValue": "1.5"}}),
        "geoTiffOptions.noData.integerValue",
        "int64",
    ),
    (
        _with(GEO, geoTiffOptions={"tileDimensions": {"width": 300, "height": 256}}),
        "geoTiffOptions.tileDimensions.width",
        "multiple of the tile size",
    ),
]


@pytest.mark.parametrize(("options", "field", "message"), ERRORS)
def test_error_paths(options, field, message):
    with pytest.raises(OptionsError) as err:
        ImageFileExportOptions.from_rest(options)
    assert err.value.field == field
    assert message in str(err.value)


@pytest.mark.parametrize("file_format", [f for f in IMAGE_FILE_FORMATS if f not in ("GEO_TIFF", "TF_RECORD_IMAGE")])
def test_other_image_file_formats_are_rejected(file_format):
    with pytest.raises(OptionsError) as err:
        ImageFileExportOptions.from_rest(_with(GEO, fileFormat=file_format))
    assert err.value.field == "fileFormat"
    assert f"{file_format} is not supported" in str(err.value) and "GEO_TIFF, TF_RECORD_IMAGE" in str(err.value)


def test_missing_json_file_is_an_options_error(tmp_path):
    with pytest.raises(OptionsError, match="neither JSON text nor an existing"):
        ImageFileExportOptions.from_rest(str(tmp_path / "missing.json"))


def test_an_invalid_export_writes_nothing(tmp_path, image):
    bad = _with(GEO, geoTiffOptions={"tileDimensions": {"width": 300, "height": 256}})
    with pytest.raises(OptionsError):
        export(image, bad, destination=str(tmp_path / "scene"))
    assert os.listdir(tmp_path) == []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3():
    """fsspec storage options of a bucket on moto's S3 server, started on a free local port."""
    moto_server = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    boto3 = pytest.importorskip("boto3")
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    try:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        client.create_bucket(Bucket=BUCKET)
        yield {
            "key": "testing",
            "secret": "testing",
            "client_kwargs": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }
    finally:
        server.stop()


def _s3fs(options):
    import s3fs

    return s3fs.S3FileSystem(skip_instance_cache=True, **options)


def test_s3_geotiff_through_export(s3, image, mask):
    options = _with(GEO, geoTiffOptions=REST_GEOTIFF)
    result = export(image, options, destination=f"s3://{BUCKET}/geo/scene", storage_options=s3, mask=mask, **GEOREF)
    fs = _s3fs(s3)
    assert sorted(fs.ls(f"{BUCKET}/geo")) == sorted(f[len("s3://") :] for f in result.files)
    cogeo = pytest.importorskip("rio_cogeo.cogeo")
    for url, (y0, x0) in zip(result.files, result.offsets, strict=True):
        with fs.open(url, "rb") as f, rasterio.MemoryFile(f.read()) as mem:
            with mem.open() as ds:
                np.testing.assert_array_equal(ds.read_masks(1) == 0, mask[y0 : y0 + 64, x0 : x0 + 128])
                valid = ~mask[y0 : y0 + 64, x0 : x0 + 128]
                np.testing.assert_array_equal(ds.read()[:, valid], image[:, y0 : y0 + 64, x0 : x0 + 128][:, valid])
            assert cogeo.cog_validate(mem.name, quiet=True)[0]


def test_s3_geotiff_direct_and_failure_cleanup(s3, image):
    prefix = f"s3://{BUCKET}/direct/scene"
    result = export_geotiff(image, prefix, file_dimensions=64, tile_size=64, storage_options=s3, **GEOREF)
    fs = _s3fs(s3)
    assert len(fs.ls(f"{BUCKET}/direct")) == len(result.files) == 6

    def progress(done: int, total: int) -> None:
        if done == 2:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        export_geotiff(image, f"s3://{BUCKET}/failed/scene", file_dimensions=64, tile_size=64, storage_options=s3,
                       progress=progress, **GEOREF)  # fmt: skip
    fs.invalidate_cache()
    assert fs.find(f"{BUCKET}/failed") == []


def test_s3_tfrecord_through_export(s3, monkeypatch, tmp_path, image):
    # export_image takes no storage options (yet): fsspec's configuration carries them.
    monkeypatch.setitem(fsspec.config.conf, "s3", dict(s3))
    options = _with(TFR, tfRecordOptions=REST_TFRECORD)
    result = export(image, options, destination=f"s3://{BUCKET}/tfr/scene", **GEOREF)
    local = export_image(image, str(tmp_path / "scene"), format_options=EE_TFRECORD, **GEOREF)
    fs = _s3fs(s3)
    assert sorted(fs.ls(f"{BUCKET}/tfr")) == sorted(f[len("s3://") :] for f in [*result.files, result.mixer])
    for url, path in zip([*result.files, result.mixer], [*local.files, local.mixer], strict=True):
        with fs.open(url, "rb") as f, open(path, "rb") as g:
            assert f.read() == g.read()
