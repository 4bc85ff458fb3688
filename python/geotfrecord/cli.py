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

from . import build_info, decode_example, export_image, read_records
from .samples import SAMPLE_CRS, write_sample_geotiff

__all__ = ["main"]


def _demo(args: argparse.Namespace) -> int:
    """Export a synthetic GeoTIFF the Earth Engine way, read it back with a CRC check, compare pixels."""
    import rasterio

    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="geotfrecord-demo-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tif = write_sample_geotiff(out_dir / "sample.tif", rows=512, cols=640)
    patch, kernel = 128, 32
    start = time.perf_counter()
    result = export_image(tif, str(out_dir / "sample"), patch_dimensions=(patch, patch), kernel_size=(kernel, kernel))
    elapsed = time.perf_counter() - start
    tile = patch + kernel
    with rasterio.open(tif) as src:
        pixels = src.read()
    records = [decode_example(r) for f in result.files for r in read_records(f)]
    half = kernel // 2
    second = records[1]["B4"].reshape(tile, tile)[half:-half, half:-half]
    if not np.array_equal(second, pixels[2, :patch, patch : 2 * patch]):
        raise AssertionError("the round trip changed the pixels")
    info = build_info()
    size = sum(Path(f).stat().st_size for f in result.files)
    print(f"geotfrecord {info['version']} ({info['deflate']}, CRC32C {info['crc32c']})")
    print(f"source   {tif} (4 bands x 512 x 640 float32, {SAMPLE_CRS})")
    rate = result.bytes_written / 1e6 / elapsed
    print(f"exported {result.patches_written} of {result.total_patches} patches {patch}x{patch}, kernel {kernel}")
    print(f"         {len(result.files)} file(s), {size / 1e6:.2f} MB gzip, {rate:.0f} MB/s")
    print(f"mixer    {result.mixer}")
    print(f"verified {len(records)} records: CRCs, feature names and pixels match the GeoTIFF")
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
