"""Scaling of the Dask export from 1 to N worker processes on this machine (a LocalCluster).

Exports the same GeoTIFF once on one process without Dask, then on LocalClusters of 1..N workers,
checks that every run writes the same record stream, and prints seconds and speed-up. Point
``--scheduler tcp://host:8786`` at a real cluster (every worker must reach the image path or URL
and the output prefix, e.g. s3:// with the same credentials).
Run:  python benchmarks/dask_scaling.py [--size 4096] [--workers 2] [--compress]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096, help="image side in pixels (default 4096)")
    parser.add_argument("--workers", type=int, default=2, help="largest LocalCluster (default 2)")
    parser.add_argument("--compress", action="store_true", help="gzip the shards (zlib-ng level 6: CPU-bound)")
    parser.add_argument("--scheduler", help="address of a running dask scheduler to use instead")
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    import geotfrecord
    from geotfrecord.samples import write_sample_geotiff

    work = Path(tempfile.mkdtemp(prefix="geotfrecord-dask-"))
    tif = write_sample_geotiff(work / "in.tif", rows=args.size, cols=args.size, dtype="uint16", block=512)
    options = {
        "patch_dimensions": (256, 256),
        "kernel_size": (32, 32),
        "compressed": args.compress,
        "gzip_engine": "zlib-ng",
        "max_pixels": 1e12,
    }

    def stream(result: geotfrecord.ExportResult) -> int:
        return hash(b"".join(r for f in result.files for r in geotfrecord.read_records(f)))

    start = time.perf_counter()
    single = geotfrecord.export_image(tif, str(work / "single" / "x"), threads=1, **options)
    base = time.perf_counter() - start
    reference = stream(single)
    print(f"{args.size} x {args.size} x 4 uint16, {single.total_patches} patches, {single.bytes_written / 1e6:.0f} MB")
    print(f"  one process, no Dask      {base:7.2f} s")
    clusters = [(None, args.scheduler)] if args.scheduler else [(n, None) for n in range(1, args.workers + 1)]
    for n, address in clusters:
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, dashboard_address=None) if n else None
        with Client(address or cluster) as client:
            client.wait_for_workers(n or 1)
            start = time.perf_counter()
            result = geotfrecord.export_image(tif, str(work / f"dask{n}" / "x"), client=client, **options)
            seconds = time.perf_counter() - start
        if cluster is not None:
            cluster.close()
        same = "same records" if stream(result) == reference else "RECORDS DIFFER"
        label = f"{n} worker(s)" if n else address
        print(f"  Dask, {label:<19} {seconds:7.2f} s   x{base / seconds:4.2f}   {len(result.files)} files, {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
