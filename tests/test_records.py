"""TFRecord framing: round trips, TensorFlow interoperability both ways, corruption and truncation."""

from __future__ import annotations

import gzip
import os
import struct

import crc32c as reference
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import geotfrecord
from geotfrecord import _core
from geotfrecord.errors import CorruptRecordError


def _masked(data: bytes) -> int:
    crc = reference.crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def reference_frame(record: bytes) -> bytes:
    """The framing written out from TensorFlow's record_writer.cc, independently of the core."""
    length = struct.pack("<Q", len(record))
    return length + struct.pack("<I", _masked(length)) + record + struct.pack("<I", _masked(record))


RECORDS = [b"", b"a", b"hello world", bytes(range(256)) * 40, os.urandom(100_000)]


def test_frame_records_matches_reference_bytes():
    assert _core.frame_records(RECORDS) == b"".join(reference_frame(r) for r in RECORDS)


@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip(tmp_path, compressed):
    path = tmp_path / ("r.tfrecord.gz" if compressed else "r.tfrecord")
    assert geotfrecord.write_records(path, RECORDS) == len(RECORDS)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") is compressed
    assert list(geotfrecord.read_records(path)) == RECORDS


def test_uncompressed_file_bytes_are_exact(tmp_path):
    path = tmp_path / "r.tfrecord"
    geotfrecord.write_records(path, RECORDS)
    assert path.read_bytes() == b"".join(reference_frame(r) for r in RECORDS)


def test_compression_detected_from_content_not_suffix(tmp_path):
    path = tmp_path / "misnamed.tfrecord"
    geotfrecord.write_records(path, [b"x", b"y"], compressed=True)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert list(geotfrecord.read_records(path)) == [b"x", b"y"]
    gz = tmp_path / "plain.tfrecord.gz"
    geotfrecord.write_records(gz, [b"z"], compressed=False)
    assert list(geotfrecord.read_records(gz)) == [b"z"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=30), st.booleans())
def test_round_trip_property(tmp_path_factory, records, compressed):
    path = tmp_path_factory.mktemp("p") / "x.tfrecord"
    geotfrecord.write_records(path, records, compressed=compressed)
    assert list(geotfrecord.read_records(path)) == records


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=500), min_size=1, max_size=10), st.integers(min_value=1, max_value=64))
def test_parser_any_chunking(records, chunk):
    stream = _core.frame_records(records)
    parser = _core.RecordParser()
    out = []
    for i in range(0, len(stream), chunk):
        out.extend(parser.feed(stream[i : i + chunk]))
    parser.finish()
    assert out == records
    assert parser.records_read == len(records)


def test_empty_files(tmp_path):
    plain = tmp_path / "e.tfrecord"
    gz = tmp_path / "e.tfrecord.gz"
    geotfrecord.write_records(plain, [])
    geotfrecord.write_records(gz, [])
    assert plain.read_bytes() == b""
    assert gzip.decompress(gz.read_bytes()) == b""
    assert list(geotfrecord.read_records(plain)) == []
    assert list(geotfrecord.read_records(gz)) == []


# Byte ranges of record 1 (of three 10-byte records): length, length CRC, data, data CRC.
REGIONS = {"length": 26, "length_crc": 34, "data": 40, "data_crc": 48}


@pytest.mark.parametrize("region", list(REGIONS))
@pytest.mark.parametrize("compressed", [False, True])
def test_flipped_byte_names_file_and_record(tmp_path, region, compressed):
    records = [b"0123456789", b"abcdefghij", b"ABCDEFGHIJ"]
    stream = bytearray(_core.frame_records(records))
    stream[REGIONS[region]] ^= 0x40
    path = tmp_path / "bad.tfrecord"
    path.write_bytes(gzip.compress(bytes(stream)) if compressed else bytes(stream))
    seen = []
    with pytest.raises(CorruptRecordError) as info:
        for record in geotfrecord.read_records(path):
            seen.append(record)
    assert seen == records[:1]
    assert info.value.record_index == 1
    assert str(path) in str(info.value)
    assert "record 1" in str(info.value)
    assert "CRC" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("cut", [1, 4, 5, 12, 20, 25])
def test_truncated_file_names_record(tmp_path, cut):
    stream = _core.frame_records([b"0123456789", b"abcdefghij"])
    path = tmp_path / "short.tfrecord"
    path.write_bytes(stream[: len(stream) - cut])
    with pytest.raises(CorruptRecordError, match=r"record 1 .*truncated") as info:
        list(geotfrecord.read_records(path))
    assert info.value.record_index == 1


def test_truncated_gzip_names_record(tmp_path):
    path = tmp_path / "short.tfrecord.gz"
    geotfrecord.write_records(path, [os.urandom(5000) for _ in range(5)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 30])
    with pytest.raises(CorruptRecordError, match="truncated") as info:
        list(geotfrecord.read_records(path))
    assert str(path) in str(info.value)


def test_oversized_length_rejected_before_allocating(tmp_path):
    length = struct.pack("<Q", 1 << 40)
    path = tmp_path / "huge.tfrecord"
    path.write_bytes(length + struct.pack("<I", _masked(length)) + b"x" * 10)
    with pytest.raises(CorruptRecordError, match="exceeds the limit"):
        list(geotfrecord.read_records(path))
    small = tmp_path / "small.tfrecord"
    geotfrecord.write_records(small, [b"x" * 100])
    with pytest.raises(CorruptRecordError, match="exceeds the limit of 50 bytes"):
        list(geotfrecord.read_records(small, max_record_size=50))


def test_writer_leaves_nothing_on_error(tmp_path):
    path = tmp_path / "never.tfrecord.gz"

    def records():
        yield b"a"
        raise RuntimeError("model crashed")

    with pytest.raises(RuntimeError, match="model crashed"):
        geotfrecord.write_records(path, records())
    assert list(tmp_path.iterdir()) == []


def test_writer_uses_temporary_name_until_closed(tmp_path):
    path = tmp_path / "w.tfrecord"
    writer = geotfrecord.RecordWriter(path)
    writer.write(b"x")
    writer.flush()
    assert not path.exists()
    [temp] = list(tmp_path.iterdir())
    assert temp.name.endswith(".geotfrecord-tmp")
    writer.close()
    writer.close()  # a second close is harmless
    assert [p.name for p in tmp_path.iterdir()] == ["w.tfrecord"]
    assert writer.records_written == 1
    assert writer.bytes_written == 17


def test_gzip_output_is_readable_by_python_gzip(tmp_path):
    path = tmp_path / "r.tfrecord.gz"
    geotfrecord.write_records(path, RECORDS)
    assert gzip.decompress(path.read_bytes()) == _core.frame_records(RECORDS)


def test_reads_concatenated_gzip_members(tmp_path):
    path = tmp_path / "multi.tfrecord.gz"
    members = [gzip.compress(_core.frame_records([r])) for r in RECORDS]
    path.write_bytes(b"".join(members))
    assert list(geotfrecord.read_records(path)) == RECORDS


# --- TensorFlow both ways -------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True])
def test_tensorflow_reads_our_files(tf, tmp_path, compressed):
    path = tmp_path / ("ours.tfrecord.gz" if compressed else "ours.tfrecord")
    geotfrecord.write_records(path, RECORDS)
    dataset = tf.data.TFRecordDataset(str(path), compression_type="GZIP" if compressed else "")
    assert [r.numpy() for r in dataset] == RECORDS


@pytest.mark.parametrize("compressed", [False, True])
def test_we_read_tensorflow_files(tf, tmp_path, compressed):
    path = tmp_path / "theirs.tfrecord"
    options = tf.io.TFRecordOptions(compression_type="GZIP" if compressed else "")
    with tf.io.TFRecordWriter(str(path), options) as writer:
        for r in RECORDS:
            writer.write(r)
    assert list(geotfrecord.read_records(path)) == RECORDS


def test_tensorflow_reads_multi_member_files_we_make(tf, tmp_path):
    # Independent gzip members per chunk of records (the parallel-compression layout).
    chunks = [RECORDS[:2], RECORDS[2:4], RECORDS[4:]]
    path = tmp_path / "members.tfrecord.gz"
    path.write_bytes(b"".join(_core.gzip_compress(_core.frame_records(c), 6) for c in chunks))
    dataset = tf.data.TFRecordDataset(str(path), compression_type="GZIP")
    assert [r.numpy() for r in dataset] == RECORDS
    assert gzip.decompress(path.read_bytes()) == _core.frame_records(RECORDS)


def test_large_random_stream(tmp_path):
    rng = np.random.default_rng(0)
    records = [rng.bytes(int(n)) for n in rng.integers(0, 300_000, 60)]
    path = tmp_path / "big.tfrecord.gz"
    geotfrecord.write_records(path, records, level=1)
    assert list(geotfrecord.read_records(path)) == records


def test_plain_file_starting_like_gzip_is_read_as_plain(tmp_path, tf):
    # A first record of 35615 bytes makes a plain file start with 1f 8b, the gzip magic.
    records = [b"z" * (0x8B1F + 65536), b"next"]
    path = tmp_path / "looks-gzip.tfrecord"
    geotfrecord.write_records(path, records, compressed=False)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    assert list(geotfrecord.read_records(path)) == records
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == records


def test_writer_copies_mutable_buffers_and_rejects_text(tmp_path):
    path = tmp_path / "reuse.tfrecord"
    buffer = bytearray(b"a" * 100)
    with geotfrecord.RecordWriter(path) as writer:
        writer.write(buffer)
        buffer[:] = b"b" * 100  # a reader that reuses its buffer must not change what was written
        writer.write(memoryview(np.arange(4, dtype=np.int32)))
        with pytest.raises(TypeError, match="not str"):
            writer.write("text")
    assert list(geotfrecord.read_records(path)) == [b"a" * 100, np.arange(4, dtype=np.int32).tobytes()]


def test_highly_compressible_gzip_reads_in_bounded_steps(tmp_path):
    records = [bytes(8 << 20) for _ in range(12)]  # 96 MiB of zeros: about 100 KiB of gzip
    path = tmp_path / "zeros.tfrecord.gz"
    geotfrecord.write_records(path, records, level=1)
    assert path.stat().st_size < 1 << 20
    count = 0
    for record in geotfrecord.read_records(path):
        assert record == records[0]
        count += 1
    assert count == 12


@pytest.mark.parametrize("engine", [name for name, _ in _core.GZIP_ENGINES])
def test_tensorflow_reads_every_engine_and_the_records_do_not_change(tf, tmp_path, engine):
    records = [os.urandom(50_000) for _ in range(40)] + [bytes(300_000)] * 20  # several 4 MiB members
    path = tmp_path / f"{engine}.tfrecord.gz"
    geotfrecord.write_records(path, records, gzip_engine=engine, threads=2)
    assert [r.numpy() for r in tf.data.TFRecordDataset(str(path), compression_type="GZIP")] == records
    assert gzip.decompress(path.read_bytes()) == _core.frame_records(records)
