"""The ``geotfrecord`` command line.

Examples
--------
::

    geotfrecord demo            # export a synthetic image, read it back, print a summary
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import build_info, decode_example, encode_example, read_records, write_records

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    """Cut a synthetic 4-band image into 64 x 64 patches, write them as gzip TFRecord, read them back."""
    rng = np.random.default_rng(0)
    bands, size, patch = ("B2", "B3", "B4", "B8"), 512, 64
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    noise = 0.05 * rng.standard_normal((4, size, size))
    image = np.stack([np.sin(3 * xx + i) * np.cos(2 * yy) for i in range(4)]) + noise
    image = image.astype(np.float32)
    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="geotfrecord-demo-"))
    path = out_dir / "demo-00000.tfrecord.gz"
    start = time.perf_counter()
    records = (
        encode_example({b: image[i, r : r + patch, c : c + patch] for i, b in enumerate(bands)})
        for r in range(0, size, patch)
        for c in range(0, size, patch)
    )
    written = write_records(path, records)
    elapsed = time.perf_counter() - start
    back = [decode_example(r) for r in read_records(path)]
    first = back[0]["B4"].reshape(patch, patch)
    assert np.array_equal(first, image[2, :patch, :patch]), "round trip changed the pixels"
    info = build_info()
    print(f"geotfrecord {info['version']} ({info['deflate']}, CRC32C {info['crc32c']})")
    print(f"wrote {written} patches of {len(bands)} x {patch} x {patch} to {path}")
    rate = image.nbytes / 1e6 / elapsed
    print(f"{path.stat().st_size / 1e6:.2f} MB on disk, {rate:.0f} MB/s; read back and verified")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geotfrecord`` console script."""
    parser = argparse.ArgumentParser(prog="geotfrecord", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run a small export on synthetic data and read it back")
    demo.add_argument("--out", help="folder for the demo files (default: a new temporary folder)")
    demo.set_defaults(run=_demo)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
