"""Peak memory of a GeoTIFF export does not grow with the image.

Makes a large synthetic 4-band uint16 COG (default 16384 x 16384, 2 GiB of pixels) once, then
exports it to TFRecord in a child process (as it is, or reprojected by GDAL with --warp) and reports
that process's peak RSS against the target (500 MB).
Run:  python benchmarks/memory_export.py [--size 16384] [--compress] [--warp]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_MB = 500

CHILD = """
import resource, sys, time, geotfrecord
start = time.perf_counter()
grid = {"crs": "EPSG:3857", "scale": 12} if sys.argv[4] == "1" else {}
r = geotfrecord.export_image(sys.argv[1], sys.argv[2], patch_dimensions=(256, 256), kernel_size=(32, 32),
                             compressed=sys.argv[3] == "1", max_pixels=1e10, **grid)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{r.patches_written} patches, {len(r.files)} files, {r.bytes_written / 1e9:.2f} GB framed, "
      f"{elapsed:.1f} s, {r.bytes_written / 1e6 / elapsed:.0f} MB/s, peak RSS {peak:.0f} MB")
print(f"PEAK_MB={peak:.0f}")
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=16384, help="image side in pixels")
    parser.add_argument("--compress", action="store_true", help="gzip the shards")
    parser.add_argument("--warp", action="store_true", help="reproject to EPSG:3857 at 12 m through GDAL's warper")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "geotfrecord-bench"))
    args = parser.parse_args()

    from geotfrecord.samples import write_sample_geotiff

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    tif = cache / f"sample-{args.size}-uint16-cog.tif"
    if not tif.exists():
        start = time.perf_counter()
        tmp = tif.with_suffix(".partial.tif")
        write_sample_geotiff(tmp, rows=args.size, cols=args.size, dtype="uint16", cloud_optimized=True, block=512)
        tmp.rename(tif)
        print(f"made {tif} in {time.perf_counter() - start:.0f} s")
    pixels = args.size * args.size * 4 * 2
    print(f"source: {tif} ({args.size} x {args.size} x 4 uint16 = {pixels / 2**30:.2f} GiB of pixels)")
    with tempfile.TemporaryDirectory(dir=cache) as out:
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                str(tif),
                os.path.join(out, "big"),
                "1" if args.compress else "0",
                "1" if args.warp else "0",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
    print(child.stdout.strip().splitlines()[0])
    peak = float(child.stdout.split("PEAK_MB=")[1])
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    verdict = "met" if peak < TARGET_MB else "NOT met"
    print(f"peak RSS {peak:.0f} MB (children max {children:.0f} MB) vs target {TARGET_MB} MB: {verdict}")
    return 0 if peak < TARGET_MB else 1


if __name__ == "__main__":
    sys.exit(main())
