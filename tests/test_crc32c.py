"""CRC32C: RFC 3720 known answers on every backend and at every split point, and agreement with the
`crc32c` package on random buffers."""

from __future__ import annotations

import crc32c as reference
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geotfrecord import _core

BACKENDS = [_core.crc32c, _core.crc32c_portable, _core.crc32c_hardware]

# RFC 3720 appendix B.4, plus the customary check value.
KNOWN_ANSWERS = [
    (bytes(32), 0x8A9136AA),
    (b"\xff" * 32, 0x62A8AB43),
    (bytes(range(32)), 0x46DD794E),
    (bytes(range(31, -1, -1)), 0x113FDB5C),
    (b"123456789", 0xE3069283),
    (b"", 0),
]


@pytest.mark.parametrize("fn", BACKENDS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("data", "expected"), KNOWN_ANSWERS)
def test_known_answers_at_every_split(fn, data, expected):
    assert fn(data) == expected
    for split in range(len(data) + 1):
        assert fn(data[split:], fn(data[:split])) == expected


def test_backend_is_hardware_on_x86_and_arm():
    import platform

    machine = platform.machine().lower()
    backend = _core.crc32c_backend()
    if machine in ("x86_64", "amd64"):
        assert backend == "sse4.2"
    elif machine in ("aarch64", "arm64"):
        assert backend == "armv8-crc"


# Sizes around the interleaved loops' block boundaries (3 x 256 and 3 x 8192 bytes).
BOUNDARY_SIZES = [767, 768, 769, 1535, 24575, 24576, 24577, 3 * 24576 + 5, 1 << 20]


@pytest.mark.parametrize("size", BOUNDARY_SIZES)
@pytest.mark.parametrize("offset", [0, 1, 3, 7])
def test_block_boundaries_and_misalignment(size, offset):
    data = np.random.default_rng(size + offset).integers(0, 256, size + offset, dtype=np.uint8).tobytes()
    view = memoryview(data)[offset:]
    expected = reference.crc32c(bytes(view))
    for fn in BACKENDS:
        assert fn(view) == expected


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=5000), st.integers(min_value=0, max_value=5000))
def test_matches_crc32c_package_streaming(data, split):
    split = min(split, len(data))
    expected = reference.crc32c(data)
    for fn in BACKENDS:
        assert fn(data) == expected
        assert fn(data[split:], fn(data[:split])) == expected


def test_accepts_numpy_and_rejects_non_buffers():
    array = np.arange(1000, dtype=np.float32)
    assert _core.crc32c(array) == reference.crc32c(array.tobytes())
    with pytest.raises(TypeError, match="bytes-like"):
        _core.crc32c("text")


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_mask_round_trip(crc):
    assert _core.unmask_crc(_core.mask_crc(crc)) == crc


def test_mask_matches_tensorflow_definition():
    crc = 0x12345678
    rotated = ((crc >> 15) | (crc << 17)) & 0xFFFFFFFF
    assert _core.mask_crc(crc) == (rotated + 0xA282EAD8) & 0xFFFFFFFF
