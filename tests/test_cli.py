"""The ``geotfrecord`` command line, driven through its entry points as a user would (GitHub issue 6).

Every command runs in a subprocess (``python -m geotfrecord``, and the installed ``geotfrecord`` script
once); outputs are checked without TensorFlow, with geotfrecord's own reader, rasterio and matplotlib.
Images are small (130 x 96) so that the file stays well under a minute and a half.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import geotfrecord
from geotfrecord import cli
from geotfrecord.samples import SAMPLE_BANDS, write_sample_geotiff

ROWS, COLS = 96, 130  # the sample image: 4 x 3 patches of 32 x 32, and a 2-column strip no patch covers
PATCH, KERNEL = 32, 8
TILE = PATCH + 2 * (KERNEL // 2)  # 40: the patch and its buffer
NODATA = -9999.0
GZIP_MAGIC = b"\x1f\x8b"


def run(*args: object, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m geotfrecord ARGS``, output captured (stderr is not a terminal: no progress bar)."""
    return subprocess.run(
        [sys.executable, "-m", "geotfrecord", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return proc


def assert_bad_input(proc: subprocess.CompletedProcess[str], *names: str) -> str:
    """Exit 2, one line on stderr naming the problem, no traceback, nothing on stdout."""
    assert proc.returncode == 2, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "error" in lines[0], lines[0]
    assert "Traceback" not in proc.stderr
    for name in names:
        assert name in lines[0], f"{name!r} not in {lines[0]!r}"
    assert proc.stdout == ""
    return lines[0]


def records_of(files: list[Path] | list[str]) -> list[bytes]:
    return [r for f in files for r in geotfrecord.read_records(str(f))]


def source_pixels(path: Path) -> np.ndarray:
    import rasterio

    with rasterio.open(path) as src:
        return src.read()


def png_shape(path: Path) -> tuple[int, ...]:
    """(height, width, channels) of a PNG, checked to be a real, non-blank image."""
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[2] in (3, 4), image.shape
    assert image.shape[0] > 100 and image.shape[1] > 100, image.shape
    assert np.ptp(image[..., :3]) > 0.5, "blank image"
    colourful = np.abs(image[..., 0] - image[..., 2]) > 0.1
    assert colourful.any(), "no overlay drawn (grey only)"
    return image.shape


def preview_size(width: int, height: int) -> tuple[int, int]:
    """Pixel (height, width) of a preview of a width x height layout: preview.py's figure size x its dpi."""
    dpi = 100
    return round((10 * height / width + 0.8) * dpi), 10 * dpi


# --- shared inputs ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """A sample GeoTIFF, a masked one (top-left corner nodata), and options files in both spellings."""
    import rasterio

    d = tmp_path_factory.mktemp("cli-data")
    tif = Path(write_sample_geotiff(d / "sample.tif", rows=ROWS, cols=COLS, block=64))
    masked = Path(write_sample_geotiff(d / "masked.tif", rows=ROWS, cols=COLS, block=64, nodata=NODATA, seed=3))
    with rasterio.open(masked, "r+") as ds:
        pixels = ds.read()
        pixels[:, :40, :50] = NODATA  # patches (0,0) (0,1) (1,0) are over 30 % masked, with their buffer
        ds.write(pixels)
    format_json = d / "format.json"
    format_json.write_text(
        json.dumps({"patchDimensions": [PATCH, PATCH], "kernelSize": [KERNEL, KERNEL], "maxFileSize": 10**9})
    )
    rest_json = d / "rest.json"
    rest_json.write_text(
        json.dumps(
            {
                "fileFormat": "TF_RECORD_IMAGE",
                "driveDestination": {"folder": "ignored", "filenamePrefix": "ignored"},
                "tfRecordOptions": {
                    "tileDimensions": {"width": PATCH, "height": PATCH},
                    "marginDimensions": {"width": KERNEL, "height": KERNEL},
                    "compress": False,
                    "maxSizeBytes": "1000000000",
                },
            }
        )
    )
    return SimpleNamespace(dir=d, tif=tif, masked=masked, format_json=format_json, rest_json=rest_json)


@pytest.fixture(scope="module")
def sharded(data: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """formatOptions JSON with maxFileSize 1e9, overridden by --max-file-size 100KiB: several shards."""
    out = tmp_path_factory.mktemp("cli-sharded")
    proc = ok(run("export", data.tif, out / "scene", "--options", data.format_json, "--max-file-size", "100KiB"))
    files = sorted(out.glob("scene-*.tfrecord.gz"))
    return SimpleNamespace(dir=out, proc=proc, files=files, mixer=out / "scene-mixer.json")


# --- demo ---------------------------------------------------------------------------------------------


def test_demo(tmp_path: Path) -> None:
    proc = ok(run("demo", "--out", tmp_path))
    lines = proc.stdout.strip().splitlines()
    assert lines[0].startswith(f"geotfrecord {geotfrecord.__version__}")
    text = proc.stdout
    assert "exported 20 of 20 patches 128x128, kernel 32" in text
    assert "every CRC verified" in text
    assert "equal to the source pixel for pixel" in text
    assert proc.stderr == ""
    assert (tmp_path / "sample-00000.tfrecord.gz").is_file()
    assert (tmp_path / "sample-mixer.json").is_file()
    assert (tmp_path / "uploaded.tif").is_file()


# --- export -------------------------------------------------------------------------------------------


def test_export_flags(data: SimpleNamespace, tmp_path: Path) -> None:
    flags = ["--patch", PATCH, PATCH, "--kernel", KERNEL, KERNEL, "--default-value", -1, "--bands", "B4,B8"]
    proc = ok(run("export", data.tif, tmp_path / "scene", *flags))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene-00000.tfrecord.gz", "scene-mixer.json"]
    summary = proc.stdout.strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith("12 patches written, 0 dropped, 1 file(s)"), summary
    assert "scene-mixer.json" in summary[0]
    assert proc.stderr == ""

    shard = tmp_path / "scene-00000.tfrecord.gz"
    assert shard.read_bytes()[:2] == GZIP_MAGIC
    records = records_of([shard])
    assert len(records) == 12
    first = geotfrecord.decode_example(records[0])
    assert sorted(first) == ["B4", "B8"]
    # The top-left tile: its buffer beyond the image edge holds --default-value, the rest is the image.
    src = source_pixels(data.tif)
    m = KERNEL // 2
    for name in ("B4", "B8"):
        tile = first[name].reshape(TILE, TILE)
        assert tile.dtype == np.float32
        assert (tile[:m] == -1).all() and (tile[:, :m] == -1).all()
        band = SAMPLE_BANDS.index(name)
        np.testing.assert_array_equal(tile[m:, m:], src[band, : TILE - m, : TILE - m])
    # The last tile (row 2, column 3): its buffer reaches into the uncovered strip and below the image.
    last = geotfrecord.decode_example(records[-1])["B8"].reshape(TILE, TILE)
    y0, x0 = 2 * PATCH - m, 3 * PATCH - m
    np.testing.assert_array_equal(last[: ROWS - y0, : COLS - x0], src[3, y0:, x0:])
    assert (last[ROWS - y0 :] == -1).all() and (last[:, COLS - x0 :] == -1).all()

    mixer = json.loads((tmp_path / "scene-mixer.json").read_text())
    assert mixer["patchDimensions"] == [PATCH, PATCH]
    assert mixer["patchesPerRow"] == 4 and mixer["totalPatches"] == 12
    assert mixer["projection"]["crs"] == "EPSG:32633"


def test_export_options_json_with_flag_override(sharded: SimpleNamespace) -> None:
    names = sorted(p.name for p in sharded.dir.iterdir())
    assert len(sharded.files) > 1, names
    assert names == [f"scene-{i:05d}.tfrecord.gz" for i in range(len(sharded.files))] + ["scene-mixer.json"]
    # each shard is cut before it passes 100 KiB of framed records (the gzip files are smaller still)
    assert all(f.stat().st_size <= 100 * 1024 for f in sharded.files)
    assert f"12 patches written, 0 dropped, {len(sharded.files)} file(s)" in sharded.proc.stdout
    records = records_of(sharded.files)
    assert len(records) == 12
    assert {len(v) for v in geotfrecord.decode_example(records[0]).values()} == {TILE * TILE}


def test_export_rest_options_json(data: SimpleNamespace, sharded: SimpleNamespace, tmp_path: Path) -> None:
    ok(run("export", data.tif, tmp_path / "scene", "--options", data.rest_json, cwd=tmp_path))
    # compress: false in tfRecordOptions; the destination in the JSON is ignored for DEST
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scene-00000.tfrecord", "scene-mixer.json"]
    assert not (tmp_path / "ignored").exists()
    shard = tmp_path / "scene-00000.tfrecord"
    assert shard.read_bytes()[:2] != GZIP_MAGIC
    # the same options in the other spelling: the same records, whatever the sharding and compression
    assert records_of([shard]) == records_of(sharded.files)


def test_export_no_compress_and_collapse_bands(data: SimpleNamespace, tmp_path: Path) -> None:
    ok(run("export", data.tif, tmp_path / "raw", "--patch", PATCH, PATCH, "--no-compress", "--collapse-bands"))
    shard = tmp_path / "raw-00000.tfrecord"
    assert shard.is_file() and not (tmp_path / "raw-00000.tfrecord.gz").exists()
    assert shard.read_bytes()[:2] != GZIP_MAGIC
    records = records_of([shard])
    assert len(records) == 12
    collapsed = geotfrecord.decode_example(records[0])
    assert list(collapsed) == ["B2"] and collapsed["B2"].size == len(SAMPLE_BANDS) * PATCH * PATCH


def test_export_masked_threshold(data: SimpleNamespace, tmp_path: Path) -> None:
    flags = ["--patch", PATCH, PATCH, "--kernel", KERNEL, KERNEL, "--masked-threshold", 0.3]
    proc = ok(run("export", data.masked, tmp_path / "m", *flags))
    assert proc.stdout.startswith("9 patches written, 3 dropped")
    assert "no mixer" in proc.stdout
    assert not (tmp_path / "m-mixer.json").exists()
    assert len(records_of([tmp_path / "m-00000.tfrecord.gz"])) == 9


def test_quiet_prints_nothing(data: SimpleNamespace, tmp_path: Path) -> None:
    for i, args in enumerate((["-q", "export"], ["export", "--quiet"])):
        proc = ok(run(*args, data.tif, tmp_path / f"q{i}", "--patch", PATCH, PATCH))
        assert proc.stdout == "" and proc.stderr == ""
        assert (tmp_path / f"q{i}-00000.tfrecord.gz").is_file()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="pseudo-terminal test written for Linux")
def test_progress_bar_only_on_a_terminal(data: SimpleNamespace, tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    def on_terminal(*args: object) -> tuple[int, bytes, str]:
        controller, terminal = pty.openpty()
        fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
        with subprocess.Popen(
            [sys.executable, "-m", "geotfrecord", *map(str, args)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
        ) as proc:
            os.close(terminal)
            seen = b""
            while True:
                try:
                    chunk = os.read(controller, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            stdout = proc.stdout.read() if proc.stdout else ""
        os.close(controller)
        return proc.returncode, seen, stdout

    code, seen, stdout = on_terminal("export", data.tif, tmp_path / "bar", "--patch", PATCH, PATCH)
    assert code == 0
    assert b"patch" in seen and b"12" in seen, seen  # the tqdm bar: "... 12/12 ... patch/s"
    assert stdout.startswith("12 patches written")  # the summary stays on stdout
    code, seen, stdout = on_terminal("export", data.tif, tmp_path / "quiet", "--patch", PATCH, PATCH, "-q")
    assert code == 0 and seen == b"" and stdout == ""


def _geotiff_available() -> str | None:
    try:
        import geotfrecord.geotiff  # noqa: F401
    except Exception as err:
        return f"geotfrecord.geotiff does not import ({type(err).__name__}: {err}); GeoTIFF export is not ready"
    return None


def test_export_geotiff_with_flags(data: SimpleNamespace, tmp_path: Path) -> None:
    if reason := _geotiff_available():
        pytest.skip(reason)
    import rasterio

    proc = ok(
        run("export", data.tif, tmp_path / "g", "--format", "geotiff", "--file-dimensions", 64, 64, "--tile-size", 32)
    )
    assert proc.stdout.startswith("6 GeoTIFF file(s) written")
    offsets = [(y, x) for y in (0, 64) for x in (0, 64, 128)]
    expected = [f"g-{y:010d}-{x:010d}.tif" for y, x in offsets]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    src = source_pixels(data.tif)
    for name, (y, x) in zip(expected, offsets, strict=True):
        with rasterio.open(tmp_path / name) as piece:
            assert piece.crs == "EPSG:32633"
            np.testing.assert_array_equal(piece.read(), src[:, y : y + piece.height, x : x + piece.width])


@pytest.mark.parametrize("spelling", ["formatOptions", "rest"])
def test_export_geotiff_options_json(data: SimpleNamespace, tmp_path: Path, spelling: str) -> None:
    if reason := _geotiff_available():
        pytest.skip(reason)
    if spelling == "rest":
        options = {
            "fileFormat": "GEO_TIFF",
            "geoTiffOptions": {"tileDimensions": {"width": 64, "height": 64}, "tileSize": 32},
        }
        args: tuple[object, ...] = ()  # fileFormat picks GeoTIFF
    else:
        options = {"fileDimensions": [64, 64], "shardSize": 32}
        args = ("--format", "geotiff")
    path = tmp_path / "options.json"
    path.write_text(json.dumps(options))
    # --file-dimensions overrides the JSON's 64 x 64 pieces: 128 x 128 pieces of the 130 x 96 image
    ok(run("export", data.tif, tmp_path / "out" / "g", "--options", path, *args, "--file-dimensions", 128, 128))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "g-0000000000-0000000000.tif",
        "g-0000000000-0000000128.tif",
    ]


# --- bad input ----------------------------------------------------------------------------------------

BAD_INPUTS = {
    # id: (arguments, with {tif} {dir} {format} placed; words the one-line message must contain)
    "missing --patch": (["export", "{tif}", "{dir}/bad"], ["--patch", "required"]),
    "unknown key in formatOptions JSON": (
        ["export", "{tif}", "{dir}/bad", "--options", "{dir}/typo.json"],
        ["kernelSze", "kernelSize"],
    ),
    "unknown key in REST JSON": (
        ["export", "{tif}", "{dir}/bad", "--options", "{dir}/rest-typo.json"],
        ["tfRecordOptions.tileDimension"],
    ),
    "unknown top-level key in REST JSON": (
        ["export", "{tif}", "{dir}/bad", "--options", "{dir}/rest-top-typo.json"],
        ["tfRecordOption", "tfRecordOptions"],
    ),
    "masked threshold 2": (
        ["export", "{tif}", "{dir}/bad", "--patch", "32", "32", "--masked-threshold", "2"],
        ["--masked-threshold", "[0, 1]"],
    ),
    "masked threshold 2 in JSON": (
        ["export", "{tif}", "{dir}/bad", "--options", "{dir}/threshold.json"],
        ["maskedThreshold", "[0, 1]"],
    ),
    "missing input file": (["export", "{dir}/nope.tif", "{dir}/bad", "--patch", "32", "32"], ["nope.tif"]),
    "bad --tensor-depths syntax": (
        ["export", "{tif}", "{dir}/bad", "--patch", "32", "32", "--tensor-depths", "B2:3"],
        ["--tensor-depths", "B2:3"],
    ),
    "--tensor-depths on a scalar band": (
        ["export", "{tif}", "{dir}/bad", "--patch", "32", "32", "--tensor-depths", "B2=3"],
        ["tensorDepths.B2"],
    ),
    "bad --max-file-size": (
        ["export", "{tif}", "{dir}/bad", "--patch", "32", "32", "--max-file-size", "12XB"],
        ["--max-file-size", "12XB"],
    ),
    "zero --patch": (["export", "{tif}", "{dir}/bad", "--patch", "0", "32"], ["--patch[0]"]),
    "patch larger than the image": (["export", "{tif}", "{dir}/bad", "--patch", "256", "256"], ["patchDimensions"]),
    "unknown band": (["export", "{tif}", "{dir}/bad", "--patch", "32", "32", "--bands", "B2,B9"], ["B9"]),
    "--options not JSON": (["export", "{tif}", "{dir}/bad", "--options", "{tif}"], ["--options", "not valid JSON"]),
    "--options file missing": (
        ["export", "{tif}", "{dir}/bad", "--options", "{dir}/nope.json"],
        ["--options", "cannot read", "nope.json"],
    ),
    "unknown command": (["exprot", "{tif}"], ["exprot"]),
    "upload without --mixer": (["upload", "{dir}/a.tfrecord.gz", "{dir}/bad.tif"], ["--mixer"]),
    "upload missing records": (
        ["upload", "{dir}/nope.tfrecord.gz", "--mixer", "{dir}/mixer.json", "{dir}/bad.tif"],
        ["nope.tfrecord.gz"],
    ),
    "table unknown format": (["table", "{tif}", "{dir}/bad.tfrecord.gz"], ["'.tif'"]),
    "preview an image without --patch": (["preview", "{tif}", "--png", "{dir}/bad.png"], ["--patch"]),
}


@pytest.fixture(scope="module")
def bad_dir(data: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli-bad")
    (d / "typo.json").write_text(json.dumps({"patchDimensions": [32, 32], "kernelSze": [8, 8]}))
    (d / "threshold.json").write_text(json.dumps({"patchDimensions": [32, 32], "maskedThreshold": 2}))
    tf_rest = {"fileFormat": "TF_RECORD_IMAGE", "tfRecordOptions": {"tileDimension": {"width": 32, "height": 32}}}
    (d / "rest-typo.json").write_text(json.dumps(tf_rest))
    (d / "rest-top-typo.json").write_text(json.dumps({"fileFormat": "TF_RECORD_IMAGE", "tfRecordOption": {}}))
    mixer = {
        "projection": {"crs": "EPSG:32633", "affine": {"doubleMatrix": [10.0, 0.0, 280000.0, 0.0, -10.0, 4650000.0]}},
        "patchDimensions": [32, 32],
        "patchesPerRow": 4,
        "totalPatches": 12,
    }
    (d / "mixer.json").write_text(json.dumps(mixer))
    return d


@pytest.mark.parametrize("case", list(BAD_INPUTS), ids=list(BAD_INPUTS))
def test_bad_input_exits_2_with_one_line(data: SimpleNamespace, bad_dir: Path, case: str) -> None:
    template, words = BAD_INPUTS[case]
    args = [a.format(tif=data.tif, dir=bad_dir) for a in template]
    before = set(bad_dir.iterdir())
    assert_bad_input(run(*args), *words)
    assert set(bad_dir.iterdir()) == before, "a failed command left files behind"


def test_debug_shows_the_traceback(data: SimpleNamespace, tmp_path: Path) -> None:
    for args in (
        ["export", data.tif, tmp_path / "bad", "--patch", 32, 32, "--masked-threshold", 2, "--debug"],
        ["--debug", "export", data.tif, tmp_path / "bad", "--patch", 32, 32, "--masked-threshold", 2],
    ):
        proc = run(*args)
        assert proc.returncode == 2
        assert "Traceback (most recent call last)" in proc.stderr
        assert "OptionsError" in proc.stderr
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("geotfrecord export: error: --masked-threshold")


def test_unexpected_error_exits_1(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    def boom(path: str) -> dict[str, object]:
        raise RuntimeError("boom")

    monkeypatch.setattr(cli, "inspect_file", boom)
    assert cli.main(["inspect", "whatever.tfrecord"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unexpected error" in err and "boom" in err and "--debug" in err
    assert "Traceback" not in err
    assert cli.main(["inspect", "whatever.tfrecord", "--debug"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: boom" in err


# --- upload -------------------------------------------------------------------------------------------


def test_upload_round_trip(data: SimpleNamespace, sharded: SimpleNamespace, tmp_path: Path) -> None:
    import rasterio

    out = tmp_path / "back.tif"
    # RECORDS... before --mixer and OUT.tif after it, as the issue spells the command
    proc = ok(run("upload", *sharded.files, "--mixer", sharded.mixer, out))
    assert proc.stdout.strip() == (
        f"12 patches -> {out} (128 x 96, bands B2, B3, B4, B8, buffer {KERNEL // 2}, {KERNEL // 2} discarded)"
    )
    with rasterio.open(data.tif) as src, rasterio.open(out) as back:
        assert (back.count, back.height, back.width) == (4, ROWS, 4 * PATCH)
        assert back.crs == src.crs and back.transform == src.transform
        assert back.descriptions == SAMPLE_BANDS
        covered = src.read(window=((0, back.height), (0, back.width)))
        np.testing.assert_array_equal(back.read(), covered)

    # a subset of bands, and the output before the records
    subset = tmp_path / "subset.tif"
    ok(run("upload", "--mixer", sharded.mixer, "--bands", "B8,B2", *sharded.files, subset))
    with rasterio.open(subset) as back:
        assert back.descriptions == ("B8", "B2")
        np.testing.assert_array_equal(back.read(), covered[[3, 0]])


def test_upload_too_few_records(sharded: SimpleNamespace, tmp_path: Path) -> None:
    # the first shard alone holds fewer Examples than the mixer's totalPatches
    line = assert_bad_input(run("upload", sharded.files[0], "--mixer", sharded.mixer, tmp_path / "x.tif"))
    assert "totalPatches" in line and "12" in line
    assert list(tmp_path.iterdir()) == []


# --- table --------------------------------------------------------------------------------------------


def test_table_csv_round_trip(tmp_path: Path) -> None:
    pd = pytest.importorskip("pandas")
    table = pd.DataFrame({"id": [1, 2, 3], "name": ["a", "bé", "c"], "value": [0.5, 1.25, -3.0]})
    table.to_csv(tmp_path / "in.csv", index=False)
    out = tmp_path / "out" / "table.tfrecord.gz"
    proc = ok(run("table", tmp_path / "in.csv", out))
    assert proc.stdout.strip() == f"table -> {out}"
    assert sorted(p.name for p in out.parent.iterdir()) == ["table.tfrecord.gz"]
    assert out.read_bytes()[:2] == GZIP_MAGIC
    rows = [geotfrecord.decode_example(r) for r in records_of([out])]
    assert len(rows) == 3
    assert rows[1]["name"] == ["bé".encode()]
    assert rows[2]["value"].tolist() == [-3.0]

    proc = ok(run("table", "--read", out, tmp_path / "back.csv"))
    assert proc.stdout.strip() == f"3 rows, 3 properties -> {tmp_path / 'back.csv'}"
    back = pd.read_csv(tmp_path / "back.csv")
    assert list(back.columns) == ["id", "name", "value"]
    assert back["id"].tolist() == [1.0, 2.0, 3.0]  # every number comes back a float, as Earth Engine's
    assert back["name"].tolist() == ["a", "bé", "c"]
    assert back["value"].tolist() == [0.5, 1.25, -3.0]


# --- inspect ------------------------------------------------------------------------------------------


def test_inspect_text(sharded: SimpleNamespace) -> None:
    proc = ok(run("inspect", *sharded.files))
    lines = proc.stdout.splitlines()
    headers = [line for line in lines if not line.startswith(" ")]
    assert len(headers) == len(sharded.files)
    for header, path in zip(headers, sharded.files, strict=True):
        assert header.startswith(f"{path}: ")
        assert "records (Example), gzip, CRC ok, tile 40x40" in header
    total = sum(int(h.split(": ")[1].split()[0]) for h in headers)
    assert total == 12
    features = [line.split() for line in lines if line.startswith(" ")]
    assert features[: len(SAMPLE_BANDS)] == [[band, "float", str(TILE * TILE)] for band in SAMPLE_BANDS]


def test_inspect_json(data: SimpleNamespace, sharded: SimpleNamespace, tmp_path: Path) -> None:
    ok(run("export", data.tif, tmp_path / "raw", "--options", data.rest_json))
    raw = tmp_path / "raw-00000.tfrecord"
    report = json.loads(ok(run("inspect", "--json", raw, sharded.files[0])).stdout)
    first, second = report["files"]
    assert first["path"] == str(raw) and second["path"] == str(sharded.files[0])
    assert first["records"] == 12 and first["compression"] == "none"
    assert second["records"] >= 1 and second["compression"] == "gzip"
    for info in (first, second):
        assert info["crc"] == "ok"
        assert info["kind"] == "Example"
        assert info["patch_shape"] == [TILE, TILE]
        assert list(info["features"]) == list(SAMPLE_BANDS)
        for feature in info["features"].values():
            assert feature == {"type": "float", "length": TILE * TILE, "lengths_vary": False}


def test_inspect_corrupt_file(data: SimpleNamespace, sharded: SimpleNamespace, tmp_path: Path) -> None:
    ok(run("export", data.tif, tmp_path / "raw", "--options", data.rest_json))
    raw = (tmp_path / "raw-00000.tfrecord").read_bytes()
    corrupt = bytearray(raw)
    corrupt[len(raw) // 2] ^= 0xFF  # inside a record's data: its data CRC no longer matches
    bad = tmp_path / "corrupt.tfrecord"
    bad.write_bytes(bytes(corrupt))
    truncated = tmp_path / "truncated.tfrecord.gz"
    truncated.write_bytes(sharded.files[0].read_bytes()[:-100])

    proc = run("inspect", sharded.files[0], bad, truncated)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    headers = [line for line in proc.stdout.splitlines() if not line.startswith(" ")]
    assert "CRC ok" in headers[0]
    assert "CRC error" in headers[1] and "CRC mismatch" in headers[1]
    assert "CRC error" in headers[2]

    proc = run("inspect", "--json", bad)
    assert proc.returncode == 2
    (info,) = json.loads(proc.stdout)["files"]
    assert info["crc"].startswith("error") and "CRC" in info["crc"]
    assert 0 < info["records"] < 12  # the records before the bad one were read


# --- preview ------------------------------------------------------------------------------------------


def test_preview_from_a_mixer(sharded: SimpleNamespace, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="preview needs matplotlib (the preview extra)")
    png = tmp_path / "layout.png"
    proc = ok(run("preview", sharded.mixer, "--kernel", KERNEL, KERNEL, "--png", png))
    assert proc.stdout.strip() == f"preview -> {png}"
    height, width, _ = png_shape(png)
    expected = preview_size(4 * PATCH, 3 * PATCH)  # a mixer knows the covered part only
    assert abs(height - expected[0]) <= 1 and width == expected[1]


def test_preview_image_masked_threshold(data: SimpleNamespace, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="preview needs matplotlib (the preview extra)")
    png = tmp_path / "masked.png"
    flags = ["--patch", PATCH, PATCH, "--kernel", KERNEL, KERNEL, "--masked-threshold", 0.3]
    ok(run("preview", data.masked, *flags, "--png", png))
    height, width, _ = png_shape(png)
    expected = preview_size(COLS, ROWS)
    assert abs(height - expected[0]) <= 1 and width == expected[1]

    # the same layout from formatOptions JSON, the threshold given as a flag on top of it
    from_options = tmp_path / "options.png"
    ok(run("preview", data.masked, "--options", data.format_json, "--masked-threshold", 0.3, "--png", from_options))
    import matplotlib.image

    np.testing.assert_array_equal(matplotlib.image.imread(from_options), matplotlib.image.imread(png))
    # without the threshold the dropped tiles are not drawn
    unmasked = tmp_path / "unmasked.png"
    ok(run("preview", data.masked, "--options", data.format_json, "--png", unmasked))
    assert png_shape(unmasked) == png_shape(png)
    assert not np.array_equal(matplotlib.image.imread(unmasked), matplotlib.image.imread(png))


# --- help and the console script ----------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, "export", "upload", "table", "inspect", "preview", "demo"])
def test_help(command: str | None) -> None:
    proc = ok(run(*([command] if command else []), "--help"))
    text = proc.stdout.lower()
    assert "example" in text
    assert proc.stdout.startswith(f"usage: geotfrecord {command or ''}".rstrip())


def test_console_script(data: SimpleNamespace, tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("geotfrecord")
    found = str(script) if script.is_file() else shutil.which("geotfrecord")
    if found is None:
        pytest.skip("the geotfrecord console script is not installed")
    proc = subprocess.run(
        [found, "export", str(data.tif), str(tmp_path / "s"), "--patch", "32", "32", "--bands", "B2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    ok(proc)
    assert proc.stdout.startswith("12 patches written")
    assert len(records_of([tmp_path / "s-00000.tfrecord.gz"])) == 12
    bad = subprocess.run(
        [found, "export", str(data.tif), str(tmp_path / "t")], capture_output=True, text=True, timeout=60
    )
    assert_bad_input(bad, "--patch")
    version = subprocess.run([found, "--version"], capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and version.stdout.strip() == f"geotfrecord {geotfrecord.__version__}"
