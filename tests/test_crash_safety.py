"""Nothing is lost and nothing half-written looks complete: an export killed (SIGKILL) at random
points leaves only complete, valid files under final names; its temporaries are recognisable and
the next run cleans them; a re-export to the same prefix leaves no stale shards."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import geotfrecord
from geotfrecord._files import TEMP_SUFFIX

CHILD = """
import sys, numpy as np, geotfrecord
image = np.random.default_rng(0).random((4, 512, 512), dtype=np.float32)
print("ready", flush=True)  # the export starts now
geotfrecord.export_image(image, sys.argv[1], patch_dimensions=(32, 32), kernel_size=(8, 8),
                         max_file_size=200_000, threads=1)
"""


def _reference(tmp_path):
    image = np.random.default_rng(0).random((4, 512, 512), dtype=np.float32)
    result = geotfrecord.export_image(
        image, str(tmp_path / "ref" / "x"), patch_dimensions=(32, 32), kernel_size=(8, 8), max_file_size=200_000,
        threads=1,
    )  # fmt: skip
    return {os.path.basename(f): list(geotfrecord.read_records(f)) for f in [*result.files]}, result


def _files_in(folder):
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


# Kill points: after this many files (temporaries included) have appeared in the output folder.
@pytest.mark.parametrize("after_files", [0, 1, 8, 20, 36])
def test_killed_export_leaves_only_complete_files(tmp_path, after_files):
    expected, reference = _reference(tmp_path)
    out = tmp_path / "out"
    with subprocess.Popen([sys.executable, "-c", CHILD, str(out / "x")], stdout=subprocess.PIPE, text=True) as child:
        assert child.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 30
        while len(_files_in(out)) < after_files and child.poll() is None and time.monotonic() < deadline:
            time.sleep(0.0005)
        child.send_signal(signal.SIGKILL)
        child.wait()
    names = sorted(os.listdir(out)) if out.exists() else []
    finals = [n for n in names if not n.startswith(".")]
    temporaries = [n for n in names if n.startswith(".")]
    assert all(n.endswith(TEMP_SUFFIX) for n in temporaries), temporaries  # recognisable by name
    for name in finals:
        if name.endswith(".json"):
            # The mixer comes last, so every shard is in place when it exists.
            assert sorted(n for n in finals if n != name) == sorted(expected)
            continue
        assert name in expected, name
        assert list(geotfrecord.read_records(out / name)) == expected[name]  # CRC-clean, right records
    # The next run to the same prefix cleans the leftovers and writes the same files.
    result = geotfrecord.export_image(
        np.random.default_rng(0).random((4, 512, 512), dtype=np.float32), str(out / "x"), patch_dimensions=(32, 32),
        kernel_size=(8, 8), max_file_size=200_000, threads=1,
    )  # fmt: skip
    assert sorted(os.listdir(out)) == sorted([*expected, "x-mixer.json"])
    assert [os.path.basename(f) for f in result.files] == [os.path.basename(f) for f in reference.files]


def test_reexport_removes_stale_shards_of_a_longer_export(tmp_path):
    image = np.ones((1, 128, 128), np.float32)
    prefix = str(tmp_path / "x")
    many = geotfrecord.export_image(image, prefix, patch_dimensions=(16, 16), max_file_size=3000)
    assert len(many.files) > 3
    few = geotfrecord.export_image(image, prefix, patch_dimensions=(16, 16))
    assert sorted(os.listdir(tmp_path)) == ["x-00000.tfrecord.gz", "x-mixer.json"]
    assert len(few.files) == 1
    plain = geotfrecord.export_image(image, prefix, patch_dimensions=(16, 16), compressed=False)
    assert sorted(os.listdir(tmp_path)) == ["x-00000.tfrecord", "x-mixer.json"]
    assert len(plain.files) == 1


def test_other_files_and_other_prefixes_are_left_alone(tmp_path):
    (tmp_path / ".y-00000.tfrecord.gz.abcd1234.geotfrecord-tmp").write_bytes(b"another export's")
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / ".x-00000.tfrecord.gz.abcd1234.geotfrecord-tmp").write_bytes(b"a killed run's")
    geotfrecord.export_image(np.ones((1, 32, 32), np.float32), str(tmp_path / "x"), patch_dimensions=(16, 16))
    assert sorted(os.listdir(tmp_path)) == [
        ".y-00000.tfrecord.gz.abcd1234.geotfrecord-tmp",
        "notes.txt",
        "x-00000.tfrecord.gz",
        "x-mixer.json",
    ]
