"""Writes the small seed corpus of the fuzz targets (run once; the corpus is committed)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

import geotfrecord
from geotfrecord import _core

HERE = Path(__file__).parent / "corpus"


def main() -> None:
    examples = [
        geotfrecord.encode_example({"B4": np.arange(16, dtype=np.float32).reshape(4, 4), "label": [3, -1]}),
        geotfrecord.encode_example({"s": [b"abc", b""], "i": np.array([2**63 - 1, -(2**63)])}),
        geotfrecord.encode_example({}),
    ]
    sequences = [
        geotfrecord.encode_sequence_example({"elev": [1.5]}, {"ndvi": [[0.1], [0.2]], "cls": [[1], [2]]}),
        geotfrecord.encode_sequence_example({}, {}),
    ]
    framed = _core.frame_records(examples)
    seeds = {
        "record_parser": [b"\x07" + framed, b"\x00" + _core.frame_records([b"", b"x" * 40])],
        "gzip": [gzip.compress(framed), gzip.compress(framed[:30]) + gzip.compress(framed[30:])],
        "example": examples,
        "sequence_example": sequences,
    }
    for target, items in seeds.items():
        folder = HERE / target
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(items):
            (folder / f"seed-{i}").write_bytes(data)


if __name__ == "__main__":
    main()
