"""Gzip streams on zlib-ng: Python's gzip reads what we write and we read what it writes."""

from __future__ import annotations

import gzip
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotfrecord import _core


def test_build_info_names_zlib_ng():
    import geotfrecord

    info = geotfrecord.build_info()
    assert info["deflate"].startswith("zlib-ng 2.")
    assert info["deflate"] == _core.deflate_library_version()


@settings(max_examples=50, deadline=None)
@given(st.lists(st.binary(max_size=20000), max_size=8), st.integers(min_value=0, max_value=9))
def test_streaming_compressor_round_trip(chunks, level):
    c = _core.GzipCompressor(level)
    out = b"".join(c.compress(chunk) for chunk in chunks) + c.finish()
    payload = b"".join(chunks)
    if payload:
        assert gzip.decompress(out) == payload
    else:
        assert out == b""  # never an empty member
    d = _core.GzipDecompressor()
    assert d.decompress(out) == payload
    d.finish()


def test_members_after_finish_are_independent():
    c = _core.GzipCompressor(6)
    first = c.compress(b"abc" * 1000) + c.finish()
    assert c.finish() == b""
    second = c.compress(b"xyz") + c.finish()
    assert gzip.decompress(first) == b"abc" * 1000
    assert gzip.decompress(second) == b"xyz"
    d = _core.GzipDecompressor()
    assert d.decompress(first + second) == b"abc" * 1000 + b"xyz"
    assert d.members == 2


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_decompressor_any_chunking(chunk):
    data = np.random.default_rng(1).normal(size=50_000).astype(np.float32).tobytes()
    stream = gzip.compress(data[:100_000]) + gzip.compress(data[100_000:])
    d = _core.GzipDecompressor()
    out = b"".join(d.decompress(stream[i : i + chunk]) for i in range(0, len(stream), chunk))
    d.finish()
    assert out == data


def test_truncated_and_corrupt_gzip():
    stream = _core.gzip_compress(b"hello" * 1000, 6)
    d = _core.GzipDecompressor()
    d.decompress(stream[:-5])
    with pytest.raises(_core.GzipFormatError, match="truncated"):
        d.finish()
    bad = bytearray(stream)
    bad[20] ^= 0xFF
    with pytest.raises(ValueError, match="corrupt gzip"):
        _core.GzipDecompressor().decompress(bytes(bad))
    with pytest.raises(ValueError, match="corrupt gzip"):
        _core.GzipDecompressor().decompress(zlib.compress(b"not gzip"))


def test_levels_and_bad_level():
    data = np.zeros(1 << 20, dtype=np.uint8).tobytes()
    assert len(_core.gzip_compress(data, 9)) < len(_core.gzip_compress(data, 0))
    with pytest.raises(ValueError, match="level"):
        _core.GzipCompressor(12)


def test_output_cap_keeps_the_rest_for_later_calls():
    data = bytes(10_000_000) + b"end"
    stream = gzip.compress(data)
    d = _core.GzipDecompressor()
    pieces = [d.decompress(stream, 1 << 20)]
    while d.has_pending_input:
        pieces.append(d.decompress(b"", 1 << 20))
    d.finish()
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= 1 << 20
    assert len(pieces) >= 10


ENGINES = [name for name, _ in _core.GZIP_ENGINES]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("size", [0, 1, 1000, 3_000_000])
def test_every_engine_writes_standard_gzip(engine, size):
    data = np.random.default_rng(size).normal(size=size // 4).astype(np.float32).tobytes()
    level = 1 if engine == "isal" else 6
    member = _core.gzip_compress(data, level, engine)
    assert gzip.decompress(member) == data
    d = _core.GzipDecompressor()
    assert d.decompress(member) == data
    d.finish()


def test_isal_is_the_default_where_built_and_bad_engines_are_named():
    import geotfrecord
    from geotfrecord.records import gzip_settings

    assert gzip_settings(None, None) == (("isal", 1) if "isal" in ENGINES else ("zlib-ng", 6))
    assert geotfrecord.build_info()["gzip_engines"][0].split()[0] == ("isa-l" if "isal" in ENGINES else "zlib-ng")
    with pytest.raises(geotfrecord.OptionsError, match="gzip_engine"):
        gzip_settings("brotli", None)
    with pytest.raises(geotfrecord.OptionsError, match="gzip_level"):
        gzip_settings("zlib-ng", 10)
    if "isal" in ENGINES:
        with pytest.raises(geotfrecord.OptionsError, match="isal levels are 0-3"):
            gzip_settings("isal", 6)
    with pytest.raises(ValueError, match="unknown gzip engine"):
        _core.gzip_compress(b"x", 1, "brotli")
