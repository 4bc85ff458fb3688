"""Image export on a real dask.distributed LocalCluster: the same record stream as one machine, and
complete, correct output when a worker dies mid-export."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time

import numpy as np
import pytest

import geotfrecord
from geotfrecord.samples import write_sample_geotiff
from geotfrecord.sources import ArraySource

distributed = pytest.importorskip("distributed")


class SlowSource(ArraySource):
    """An in-memory image whose reads take a while, so that a worker can be killed mid-export."""

    def _read(self, r0, r1, c0, c1, bands):
        time.sleep(0.03)
        return super()._read(r0, r1, c0, c1, bands)


@pytest.fixture(scope="module")
def client():
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import the tests
    with (
        distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def _stream(result):
    return [r for f in result.files for r in geotfrecord.read_records(f)]


@pytest.mark.parametrize("compressed", [True, False])
def test_distributed_record_stream_is_byte_identical(client, tmp_path, compressed):
    tif = write_sample_geotiff(tmp_path / "in.tif", rows=384, cols=320, dtype="uint16", nodata=0)
    options = {"patch_dimensions": (32, 32), "kernel_size": (8, 8), "max_file_size": 300_000, "compressed": compressed}
    single = geotfrecord.export_image(tif, str(tmp_path / "one" / "x"), **options)
    dist = geotfrecord.export_image(tif, str(tmp_path / "many" / "x"), client=client, **options)
    assert _stream(dist) == _stream(single)
    assert (dist.patches_written, dist.total_patches, dist.records_written) == (120, 120, 120)
    assert dist.bytes_written == single.bytes_written
    assert (tmp_path / "many" / "x-mixer.json").read_text() == (tmp_path / "one" / "x-mixer.json").read_text()
    names = sorted(os.listdir(tmp_path / "many"))
    suffix = ".tfrecord.gz" if compressed else ".tfrecord"
    assert names == [f"x-{i:05d}{suffix}" for i in range(len(dist.files))] + ["x-mixer.json"]
    for f in dist.files:
        assert os.path.getsize(f) > 0


def test_masked_threshold_and_folder_prefix(client, tmp_path):
    image = np.ma.masked_array(np.random.default_rng(0).random((2, 128, 128), dtype=np.float32))
    image.mask = np.zeros(image.shape, bool)
    image.mask[:, :40, :40] = True
    options = {"patch_dimensions": (16, 16), "masked_threshold": 0.2}
    single = geotfrecord.export_image(image, str(tmp_path / "one") + "/", **options)
    dist = geotfrecord.export_image(image, str(tmp_path / "many") + "/", client=client, **options)
    assert _stream(dist) == _stream(single)
    assert dist.patches_dropped == single.patches_dropped > 0
    assert dist.mixer is None and not (tmp_path / "many" / "mixer.json").exists()


def test_worker_killed_mid_export_still_gives_complete_output(client, tmp_path):
    rng = np.random.default_rng(1)
    bands = [rng.random((256, 128), dtype=np.float32) for _ in range(2)]
    source = SlowSource(bands, ["a", "b"], mask=None, nodata=None, crs="EPSG:32633", transform=None)
    single = geotfrecord.export_image(source, str(tmp_path / "one" / "x"), patch_dimensions=(8, 8), compressed=False)
    out = tmp_path / "many"
    box: dict = {}

    def run():
        try:
            box["result"] = geotfrecord.export_image(
                source, str(out / "x"), patch_dimensions=(8, 8), compressed=False, client=client
            )
        except BaseException as err:  # pragma: no cover - reported below
            box["error"] = err

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.time() + 60
    while time.time() < deadline and not (out.exists() and any(p.name.startswith(".") for p in out.iterdir())):
        time.sleep(0.05)
    victim = next(iter(client.scheduler_info()["workers"]))
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)  # the nanny starts a new worker; Dask reruns the lost tasks
    thread.join(180)
    assert not thread.is_alive()
    assert "error" not in box, box.get("error")
    result = box["result"]
    assert _stream(result) == _stream(single)
    assert sorted(p.name for p in out.iterdir()) == [os.path.basename(f) for f in result.files] + ["x-mixer.json"]


def test_export_many_writes_an_index(client, tmp_path):
    paths = [write_sample_geotiff(tmp_path / f"scene{i}.tif", rows=64, cols=96, seed=i) for i in range(3)]
    results = geotfrecord.export_many(paths, str(tmp_path / "out"), client=client, patch_dimensions=(32, 32))
    index = json.loads((tmp_path / "out" / "index.json").read_text())["exports"]
    assert [e["prefix"].rsplit("/", 1)[1] for e in index] == ["scene0", "scene1", "scene2"]
    assert [r.total_patches for r in results] == [6, 6, 6]
    for entry in index:
        assert all(os.path.exists(f) for f in entry["files"]) and os.path.exists(entry["mixer"])


def test_open_rasterio_dataset_is_refused_with_advice(client, tmp_path):
    import rasterio

    tif = write_sample_geotiff(tmp_path / "in.tif", rows=64, cols=64)
    with rasterio.open(tif) as ds, pytest.raises(geotfrecord.OptionsError, match="pass its path"):
        geotfrecord.export_image(ds, str(tmp_path / "x"), patch_dimensions=(32, 32), client=client)
