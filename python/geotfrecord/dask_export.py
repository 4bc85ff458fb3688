"""Image exports on Dask (``dask.distributed``): the patch grid split into blocks of patch rows, each
task reading its own windows of the source and writing its own shard files; the driver gathers only
small metadata, gives the shards their final names in global patch order, and writes the mixer.

The record stream — every record, in file order — is byte-identical to the single-machine export:
records depend only on the image, the options and the patch row. Sharding is per task: each task
starts a new file when the next record would push its current file past ``maxFileSize``, so files
are never larger than on one machine, but a task's last file may be short and there may be more
files in all. Task files are complete, CRC-framed files under temporary names
(``.geotfrecord-part-…``) until every task has succeeded; a failed task is retried by Dask, and a
failed export leaves nothing under a final name.

Examples
--------
::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")          # or Client() for a local cluster
    geotfrecord.export_image("s3://bucket/mosaic.tif", "s3://bucket/out/mosaic",
                             patch_dimensions=(256, 256), kernel_size=(32, 32), client=client)
"""

from __future__ import annotations

import glob as globlib
import json
import math
import os
import secrets
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ._files import TEMP_SUFFIX, AtomicOutput, is_local
from .errors import OptionsError
from .image_export import (
    ExportPlan,
    ExportResult,
    export_image,
    export_rows,
    open_export_source,
    plan_export,
    write_mixer,
)
from .naming import image_shard_name
from .options import TFRecordOptions

__all__ = ["export_image_distributed", "export_many"]

PART_PREFIX = ".geotfrecord-part-"
#: Blocks per worker: more than one, so a slow or lost worker's rows are spread over the others.
BLOCKS_PER_WORKER = 4


def _folder(prefix: str) -> str:
    """The folder the export's files go to."""
    first = image_shard_name(prefix, 0, compressed=False)
    return first.rsplit("/", 1)[0] if "/" in first else "."


def _part_name(folder: str, token: str, task: int, attempt: str, index: int, compressed: bool) -> str:
    suffix = ".tfrecord.gz" if compressed else ".tfrecord"
    return f"{folder}/{PART_PREFIX}{token}-{task:05d}-{attempt}-{index:05d}{suffix}{TEMP_SUFFIX}"


def _export_block(
    image: Any,
    describe: Mapping[str, Any],
    grid: Mapping[str, Any],
    plan: ExportPlan,
    start: int,
    stop: int,
    folder: str,
    token: str,
    task: int,
    gzip: tuple[str, int],
    threads: int,
    storage_options: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """A Dask task: patch rows [start, stop) to complete files under temporary part names."""
    source = open_export_source(image, describe, grid)
    attempt = secrets.token_hex(3)  # a retry never collides with what a killed attempt left behind
    compressed = plan.options.compressed
    shards = plan.shard_writer(
        lambda k: _part_name(folder, token, task, attempt, k, compressed), gzip, threads, storage_options
    )
    try:
        written, dropped = export_rows(source, plan, range(start, stop), shards, threads)
        files = shards.close()
    except BaseException:
        shards.abort()
        raise
    finally:
        if source is not image:
            source.close()
    return {"files": files, "records": shards.records, "bytes": shards.bytes, "written": written, "dropped": dropped}


def _rename(src: str, dst: str, storage_options: Mapping[str, Any] | None) -> None:
    if is_local(src):
        os.replace(src, dst)
    else:
        import fsspec

        fs, _ = fsspec.core.url_to_fs(src, **(storage_options or {}))
        fs.mv(fs._strip_protocol(src), fs._strip_protocol(dst))


def _remove_parts(folder: str, token: str, storage_options: Mapping[str, Any] | None = None) -> None:
    """Delete this export's part files, and the temporaries of parts whose writer was killed."""
    patterns = [f"{folder}/{PART_PREFIX}{token}-*", f"{folder}/.{PART_PREFIX}{token}-*"]
    if is_local(folder):
        for pattern in patterns:
            for path in globlib.glob(pattern):
                os.remove(path)
        return
    import fsspec

    fs, _ = fsspec.core.url_to_fs(folder, **(storage_options or {}))
    for pattern in patterns:
        for path in fs.glob(fs._strip_protocol(pattern)):
            fs.rm(path)


def export_image_distributed(
    client: Any,
    image: Any,
    prefix: str,
    options: TFRecordOptions,
    bands: Sequence[str] | None,
    describe: Mapping[str, Any],
    grid: Mapping[str, Any],
    gzip: tuple[str, int],
    threads: int,
    progress: Callable[[int, int], None] | None,
    *,
    rows_per_task: int | None = None,
    retries: int = 2,
    storage_options: Mapping[str, Any] | None = None,
) -> ExportResult:
    """:func:`~geotfrecord.export_image` on a Dask cluster (called by it when given ``client=``)."""
    if type(image).__module__.startswith("rasterio"):
        raise OptionsError("image", "an open rasterio dataset cannot travel to Dask workers; pass its path or URL")
    source = open_export_source(image, describe, grid)
    try:
        plan = plan_export(source, options, bands)
    finally:
        if source is not image:
            source.close()
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    per_task = rows_per_task or max(1, math.ceil(plan.patch_rows / (BLOCKS_PER_WORKER * workers)))
    starts = list(range(0, plan.patch_rows, per_task))
    folder = _folder(prefix)
    if is_local(folder):
        os.makedirs(folder, exist_ok=True)
    token = secrets.token_hex(4)
    # Inside a task, Dask already runs one task per worker thread: encode and compress on one thread.
    futures = [
        client.submit(
            _export_block,
            image,
            describe,
            grid,
            plan,
            start,
            min(start + per_task, plan.patch_rows),
            folder,
            token,
            task,
            gzip,
            1,
            storage_options,
            pure=False,
            retries=retries,
        )
        for task, start in enumerate(starts)
    ]
    try:
        from dask.distributed import as_completed

        done = 0
        for future in as_completed(futures):
            future.result()  # raises the task's error, after its retries
            index = futures.index(future)
            stop = min(starts[index] + per_task, plan.patch_rows)
            done += (stop - starts[index]) * plan.patches_per_row
            if progress is not None:
                progress(done, plan.total_patches)
        results = client.gather(futures)
        files = []
        for result in results:
            for part in result["files"]:
                final = image_shard_name(prefix, len(files), compressed=options.compressed)
                _rename(part, final, storage_options)
                files.append(final)
    except BaseException:
        for future in futures:
            future.cancel()
        _remove_parts(folder, token, storage_options)
        raise
    _remove_parts(folder, token, storage_options)  # what attempts on lost workers left behind
    source = open_export_source(image, describe, grid)
    try:
        mixer_path = write_mixer(prefix, source, plan, storage_options)
    finally:
        if source is not image:
            source.close()
    return ExportResult(
        tuple(files),
        mixer_path,
        sum(r["written"] for r in results),
        sum(r["dropped"] for r in results),
        plan.total_patches,
        sum(r["records"] for r in results),
        sum(r["bytes"] for r in results),
        options,
    )


def export_many(
    images: Sequence[Any],
    dest: str | os.PathLike[str],
    *,
    client: Any = None,
    names: Sequence[str] | None = None,
    **options: Any,
) -> list[ExportResult]:
    """Export many scenes, one export per scene, in parallel on ``client`` (else one after another).

    Scene ``i`` goes to ``<dest>/<name>`` where the name is ``names[i]``, or the file's stem, or
    ``image-<i>``; ``options`` are :func:`~geotfrecord.export_image`'s keywords. An index of what was
    written is saved as ``<dest>/index.json``.
    """
    dest = os.fspath(dest).rstrip("/")
    if names is None:
        names = [
            os.path.basename(os.fspath(im)).split(".")[0] if isinstance(im, (str, os.PathLike)) else f"image-{i}"
            for i, im in enumerate(images)
        ]
    if len(set(names)) != len(names):
        raise OptionsError("names", "scene names must be unique (they name the output prefixes)")
    prefixes = [f"{dest}/{name}" for name in names]
    if client is None:
        results = [export_image(im, p, **options) for im, p in zip(images, prefixes, strict=True)]
    else:
        futures = [
            client.submit(export_image, im, p, pure=False, retries=2, **options)
            for im, p in zip(images, prefixes, strict=True)
        ]
        results = client.gather(futures)
    index = [
        {
            "image": os.fspath(im) if isinstance(im, (str, os.PathLike)) else name,
            "prefix": p,
            "files": list(r.files),
            "mixer": r.mixer,
            "patches_written": r.patches_written,
            "patches_dropped": r.patches_dropped,
        }
        for im, name, p, r in zip(images, names, prefixes, results, strict=True)
    ]
    with AtomicOutput(f"{dest}/index.json") as out:
        out.file.write(json.dumps({"exports": index}, indent=2).encode())
    return list(results)
