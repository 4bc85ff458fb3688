"""pytest-benchmark tests of geotfrecord's compiled core, each beside an optional peer.

Run:  python -m pytest benchmarks/test_core_bench.py
(``--benchmark-disable`` runs each once, as a plain correctness check). Every benchmark checks its
result, so none can pass by doing nothing; peers (the crc32c package, TensorFlow) are skipped when
not installed. Throughput of the best round is in ``extra_info`` (``GB/s`` or ``MB/s``).
"""

from __future__ import annotations

import gzip
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import geotfrecord
from bench_data import smooth_field, tile_bands
from geotfrecord import _core

MIB = 1 << 20
CRC_BYTES = 64 * MIB
FRAME_COUNT = 256
FRAME_BYTES = 256 * 1024
TILE = 384
GZIP_BYTES = 16 * MIB
GZIP_LEVEL = 6
READ_TARGET = 64 * MIB
#: TFRecord's CRC mask constant (record_writer.cc).
MASK_DELTA = 0xA282EAD8


def _reference_crc32c() -> Callable[[bytes], int]:
    """The crc32c package when installed, else the core's portable backend (independent of SSE4.2/ARMv8)."""
    try:
        import crc32c
    except ImportError:
        assert _core.crc32c_portable(b"123456789") == 0xE3069283  # the CRC-32C check value
        return _core.crc32c_portable
    return crc32c.crc32c


def _masked(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + MASK_DELTA) & 0xFFFFFFFF


def _throughput(benchmark: Any, nbytes: int, unit: str = "GB/s") -> None:
    """Record the best round's throughput; nothing to record when benchmarking is disabled."""
    benchmark.extra_info["bytes"] = nbytes
    stats = benchmark.stats
    if stats is None:
        return
    scale = 1e9 if unit == "GB/s" else 1e6
    benchmark.extra_info[unit] = round(nbytes / stats.stats.min / scale, 3)


@pytest.fixture(scope="module")
def random_64mib() -> bytes:
    return np.random.default_rng(1).integers(0, 256, CRC_BYTES, dtype=np.uint8).tobytes()


@pytest.fixture(scope="module")
def frame_inputs() -> list[bytes]:
    rng = np.random.default_rng(2)
    return [rng.integers(0, 256, FRAME_BYTES, dtype=np.uint8).tobytes() for _ in range(FRAME_COUNT)]


@pytest.fixture(scope="module")
def tile() -> dict[str, np.ndarray]:
    return tile_bands(TILE * TILE, seed=3)


@pytest.fixture(scope="module")
def field_16mib() -> bytes:
    side = int(np.sqrt(GZIP_BYTES // 4))
    return smooth_field(side, side, np.random.default_rng(4)).tobytes()


@pytest.fixture(scope="module")
def record_files(tmp_path_factory: pytest.TempPathFactory, tile: dict[str, np.ndarray]) -> dict[str, Any]:
    """A ~64 MiB TFRecord file of tile Examples: plain (the framed bytes) and gzip (geotfrecord's members)."""
    record = geotfrecord.encode_example(tile)
    count = max(1, round(READ_TARGET / len(record)))
    framed = _core.frame_records([record] * count)
    folder = tmp_path_factory.mktemp("read")
    plain = folder / "tiles.tfrecord"
    plain.write_bytes(framed)
    packed = folder / "tiles.tfrecord.gz"
    geotfrecord.write_records(packed, [record] * count, compressed=True, level=GZIP_LEVEL)
    assert gzip.decompress(packed.read_bytes()) == framed
    return {"record": record, "count": count, "payload": count * len(record), "plain": plain, "gzip": packed}


# --- CRC32C -------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="crc32c 64 MiB")
def test_crc32c_64mib(benchmark: Any, random_64mib: bytes) -> None:
    expected = _reference_crc32c()(random_64mib)
    result = benchmark(_core.crc32c, random_64mib)
    assert result == expected
    benchmark.extra_info["backend"] = _core.crc32c_backend()
    _throughput(benchmark, len(random_64mib))


@pytest.mark.benchmark(group="crc32c 64 MiB")
def test_crc32c_64mib_peer_crc32c_package(benchmark: Any, random_64mib: bytes) -> None:
    crc32c = pytest.importorskip("crc32c")
    result = benchmark(crc32c.crc32c, random_64mib)
    assert result == _core.crc32c(random_64mib)
    _throughput(benchmark, len(random_64mib))


# --- framing ------------------------------------------------------------------------------------


def _check_framed(framed: bytes, records: list[bytes]) -> None:
    crc = _reference_crc32c()
    assert len(framed) == sum(len(r) + 16 for r in records)
    for index in sorted({0, 1, len(records) // 2, len(records) - 1}):
        offset = sum(len(r) + 16 for r in records[:index])
        header = framed[offset : offset + 12]
        (length,) = struct.unpack("<Q", header[:8])
        assert length == len(records[index])
        assert struct.unpack("<I", header[8:12])[0] == _masked(crc(header[:8]))
        payload = framed[offset + 12 : offset + 12 + length]
        assert payload == records[index]
        assert struct.unpack("<I", framed[offset + 12 + length : offset + 16 + length])[0] == _masked(crc(payload))


@pytest.mark.benchmark(group="frame_records 256 x 256 KiB")
def test_frame_records_256x256kib(benchmark: Any, frame_inputs: list[bytes]) -> None:
    framed = benchmark(_core.frame_records, frame_inputs)
    _check_framed(framed, frame_inputs)
    _throughput(benchmark, FRAME_COUNT * FRAME_BYTES)


@pytest.mark.benchmark(group="frame_records 256 x 256 KiB")
def test_frame_records_peer_python_crc32c(benchmark: Any, frame_inputs: list[bytes]) -> None:
    """What the tfrecord package does per record: struct + the crc32c package, joined in Python."""
    crc32c = pytest.importorskip("crc32c").crc32c

    def frame(records: list[bytes]) -> bytes:
        parts = []
        for r in records:
            length = struct.pack("<Q", len(r))
            parts += (length, struct.pack("<I", _masked(crc32c(length))), r, struct.pack("<I", _masked(crc32c(r))))
        return b"".join(parts)

    framed = benchmark(frame, frame_inputs)
    assert framed == _core.frame_records(frame_inputs)
    _throughput(benchmark, FRAME_COUNT * FRAME_BYTES)


# --- Example encoding ---------------------------------------------------------------------------


def _expected_example_size(bands: dict[str, np.ndarray]) -> int:
    """Serialised size of an Example of float bands, from protobuf's wire format."""

    def varint(n: int) -> int:
        return max(1, (n.bit_length() + 6) // 7)

    def field(payload: int) -> int:  # tag + length + payload of a length-delimited field
        return 1 + varint(payload) + payload

    entries = 0
    for name, values in bands.items():
        float_list = field(4 * values.size)  # FloatList.value, packed
        feature = field(float_list)  # Feature.float_list, a FloatList
        entries += field(field(len(name)) + field(feature))  # map entry: key, value (a Feature)
    return field(entries)  # Example.features


@pytest.mark.benchmark(group="encode_example 4 x 384 x 384 float32")
def test_encode_example_4band_384(benchmark: Any, tile: dict[str, np.ndarray]) -> None:
    data = benchmark(geotfrecord.encode_example, tile)
    assert len(data) == _expected_example_size(tile)
    decoded = geotfrecord.decode_example(data)
    assert list(decoded) == list(tile)
    for name, values in tile.items():
        np.testing.assert_array_equal(decoded[name], values.reshape(-1))
    _throughput(benchmark, len(data), "MB/s")


@pytest.mark.benchmark(group="encode_example 4 x 384 x 384 float32")
def test_encode_example_peer_tensorflow(benchmark: Any, tile: dict[str, np.ndarray]) -> None:
    tf = pytest.importorskip("tensorflow")

    def encode(bands: dict[str, np.ndarray]) -> bytes:
        feature = {
            name: tf.train.Feature(float_list=tf.train.FloatList(value=values.reshape(-1).tolist()))
            for name, values in bands.items()
        }
        return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

    data = benchmark(encode, tile)
    ours = geotfrecord.encode_example(tile)
    assert tf.train.Example.FromString(data) == tf.train.Example.FromString(ours)
    assert tf.train.Example.FromString(data).SerializeToString(deterministic=True) == ours
    _throughput(benchmark, len(data), "MB/s")


# --- gzip ---------------------------------------------------------------------------------------


@pytest.mark.benchmark(group="gzip 16 MiB smooth field + noise, level 6")
def test_gzip_compress_16mib_level6(benchmark: Any, field_16mib: bytes) -> None:
    packed = benchmark(_core.gzip_compress, field_16mib, GZIP_LEVEL)
    assert packed[:2] == b"\x1f\x8b"
    assert gzip.decompress(packed) == field_16mib
    ratio = len(packed) / len(field_16mib)
    assert 0.3 < ratio < 1.0, f"compression ratio {ratio:.3f}: the data is not the realistic kind"
    benchmark.extra_info["ratio"] = round(ratio, 4)
    _throughput(benchmark, len(field_16mib), "MB/s")


@pytest.mark.benchmark(group="gzip 16 MiB smooth field + noise, level 6")
def test_gzip_compress_peer_stdlib_zlib(benchmark: Any, field_16mib: bytes) -> None:
    def compress(data: bytes) -> bytes:
        packer = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
        return packer.compress(data) + packer.flush()

    packed = benchmark(compress, field_16mib)
    assert gzip.decompress(packed) == field_16mib
    benchmark.extra_info["ratio"] = round(len(packed) / len(field_16mib), 4)
    _throughput(benchmark, len(field_16mib), "MB/s")


# --- reading ------------------------------------------------------------------------------------


def _drain(records: Any, expected: bytes) -> int:
    count = 0
    for record in records:
        if record != expected:
            raise AssertionError(f"record {count} differs from what was written")
        count += 1
    return count


@pytest.mark.parametrize("kind", ["plain", "gzip"])
@pytest.mark.benchmark(group="read ~64 MiB of tile Examples")
def test_read_records_64mib(benchmark: Any, record_files: dict[str, Any], kind: str) -> None:
    path: Path = record_files[kind]
    count = benchmark(lambda: _drain(geotfrecord.read_records(path), record_files["record"]))
    assert count == record_files["count"]
    _throughput(benchmark, record_files["payload"], "MB/s")


@pytest.mark.parametrize("kind", ["plain", "gzip"])
@pytest.mark.benchmark(group="read ~64 MiB of tile Examples")
def test_read_records_peer_tf_data(benchmark: Any, record_files: dict[str, Any], kind: str) -> None:
    tf = pytest.importorskip("tensorflow")
    path = str(record_files[kind])
    compression = "GZIP" if kind == "gzip" else ""

    def read() -> int:
        return _drain(tf.data.TFRecordDataset(path, compression_type=compression).as_numpy_iterator(), record)

    record = record_files["record"]
    count = benchmark(read)
    assert count == record_files["count"]
    _throughput(benchmark, record_files["payload"], "MB/s")
