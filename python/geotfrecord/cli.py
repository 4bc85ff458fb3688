"""The ``geotfrecord`` command line: export, upload, table, inspect, preview, demo.

Exit codes: 0 on success, 2 on bad input (one line naming the problem; ``--debug`` for a traceback),
1 on an unexpected error. Progress bars go to stderr, and only when it is a terminal.

Examples
--------
::

    geotfrecord demo
    geotfrecord export scene.tif out/scene --patch 256 256 --kernel 32 32
    geotfrecord export scene.tif out/scene --options formatOptions.json --max-file-size 100MiB
    geotfrecord upload 'predictions-*.tfrecord.gz' --mixer out/scene-mixer.json predicted.tif
    geotfrecord table points.geojson out/points.tfrecord.gz
    geotfrecord inspect out/scene-00000.tfrecord.gz --json
    geotfrecord preview scene.tif --patch 256 256 --kernel 32 32 --png layout.png
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from . import build_info, decode_example, export_image, read_records
from .errors import GeoTFRecordError, OptionsError
from .samples import SAMPLE_CRS, write_sample_geotiff

__all__ = ["main", "parse_size"]

_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][0-9]+)?)\s*([KMGT]?i?B?)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}


def parse_size(text: str) -> int:
    """Bytes from ``1GiB``, ``100MB``, ``512KiB``, ``1e9`` or ``104857600`` (K/M/G alone are binary).

    >>> parse_size("1GiB"), parse_size("100MB"), parse_size("64K")
    (1073741824, 100000000, 65536)
    """
    match = _SIZE.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (try 1GiB, 100MB or a number of bytes)")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    # kib, mib, gib, tib (and k, m, g, t alone) are binary
    factor = _UNITS[unit] if unit in _UNITS else 1024 ** ("kmgt".index(unit[0]) + 1)
    return int(number * factor)


def _progress(args: argparse.Namespace, unit: str) -> tuple[Callable[[int, int], None], Callable[[], None]]:
    """A progress callback and its closer: a tqdm bar on a terminal's stderr, else nothing."""
    if args.quiet or not sys.stderr.isatty():
        return (lambda done, total: None), (lambda: None)
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.update(done - bar.n)

    return update, bar.close


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text)


def _load_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as err:
        raise OptionsError("--options", f"{path} is not valid JSON: {err}") from None
    except UnicodeDecodeError:
        raise OptionsError("--options", f"{path} is not valid JSON: not UTF-8 text") from None
    except OSError as err:
        raise OptionsError("--options", f"cannot read {path}: {err.strerror or err}") from None


# --- export -----------------------------------------------------------------------------------------


def _tfrecord_overrides(args: argparse.Namespace) -> dict[str, Any]:
    overrides: dict[str, Any] = {}
    if args.patch:
        overrides["patch_dimensions"] = tuple(args.patch)
    if args.kernel:
        overrides["kernel_size"] = tuple(args.kernel)
    if args.no_compress:
        overrides["compressed"] = False
    if args.max_file_size is not None:
        overrides["max_file_size"] = args.max_file_size
    if args.default_value is not None:
        overrides["default_value"] = args.default_value
    if args.masked_threshold is not None:
        overrides["masked_threshold"] = args.masked_threshold
    if args.tensor_depths:
        depths = {}
        for item in args.tensor_depths:
            band, _, depth = item.partition("=")
            if not band or not depth.isdigit():
                raise OptionsError("--tensor-depths", f"expected band=depth, got {item!r}")
            depths[band] = int(depth)
        overrides["tensor_depths"] = depths
    if args.sequence_data:
        overrides["sequence_data"] = True
    if args.collapse_bands:
        overrides["collapse_bands"] = True
    if args.integer_encoding:
        overrides["integer_encoding"] = args.integer_encoding
    return _flag_checked(overrides)


_FLAGS = {
    "patch_dimensions": "--patch",
    "kernel_size": "--kernel",
    "max_file_size": "--max-file-size",
    "default_value": "--default-value",
    "masked_threshold": "--masked-threshold",
}


def _flag_checked(overrides: dict[str, Any]) -> dict[str, Any]:
    """Validate option flags here, so that an error names the flag as typed (``--masked-threshold``)."""
    from .options import _validate

    return {k: _validate(k, v, _FLAGS[k]) if k in _FLAGS else v for k, v in overrides.items()}


_REST_KEYS = dict.fromkeys(
    ("fileFormat", "driveDestination", "cloudStorageDestination", "geoTiffOptions", "tfRecordOptions")
)


def _is_rest(options_json: Any) -> bool:
    """A REST ImageFileExportOptions (``fileFormat`` + ``tfRecordOptions``/``geoTiffOptions``); its keys checked."""
    from .options import _reject_unknown

    if not (isinstance(options_json, dict) and "fileFormat" in options_json):
        return False
    _reject_unknown(options_json, _REST_KEYS, "")
    return True


def _cmd_export(args: argparse.Namespace) -> int:
    from .options import TFRecordOptions

    bands = args.bands.split(",") if args.bands else None
    options_json = _load_json(args.options) if args.options else None
    update, close = _progress(args, "patch")
    start = time.perf_counter()
    try:
        rest = _is_rest(options_json)
        if args.format == "geotiff" or (rest and options_json.get("fileFormat") == "GEO_TIFF"):
            return _export_geotiff(args, options_json, bands, update)
        if rest:
            if options_json.get("fileFormat") != "TF_RECORD_IMAGE":
                from .export import export

                export(args.image, options_json, destination=args.dest)
                return 0
            options_json = options_json.get("tfRecordOptions", {})
            base = TFRecordOptions.from_rest(options_json, prefix="tfRecordOptions.") if options_json else None
        else:
            base = TFRecordOptions.from_any(options_json) if options_json else None
        overrides = _tfrecord_overrides(args)
        if base is None:
            if "patch_dimensions" not in overrides:
                raise OptionsError("--patch", "required (or give patchDimensions in --options)")
            options = TFRecordOptions(**overrides)
        else:
            options = dataclasses.replace(base, **overrides)
        result = export_image(
            args.image,
            args.dest,
            format_options=options,
            bands=bands,
            gzip_level=args.level,
            gzip_engine=args.gzip_engine,
            progress=update,
        )
    finally:
        close()
    elapsed = time.perf_counter() - start
    size = result.bytes_written / 1e6
    _say(
        args,
        f"{result.patches_written} patches written, {result.patches_dropped} dropped, {len(result.files)} file(s), "
        f"{size:.1f} MB in {elapsed:.1f} s ({size / max(elapsed, 1e-9):.0f} MB/s)"
        + (f"; mixer {result.mixer}" if result.mixer else "; no mixer (maskedThreshold < 1)"),
    )
    return 0


def _export_geotiff(args: argparse.Namespace, options_json: Any, bands: list[str] | None, update: Any) -> int:
    from .geotiff import GeoTiffOptions, export_geotiff

    if isinstance(options_json, dict) and "fileFormat" in options_json:
        base = GeoTiffOptions.from_rest(options_json.get("geoTiffOptions", {}), prefix="geoTiffOptions.")
    elif options_json:
        base = GeoTiffOptions.from_format_options(options_json)
    else:
        base = GeoTiffOptions()
    overrides: dict[str, Any] = {}
    if args.cloud_optimized:
        overrides["cloud_optimized"] = True
    if args.file_dimensions:
        overrides["file_dimensions"] = tuple(args.file_dimensions)
    if args.skip_empty_files:
        overrides["skip_empty_files"] = True
    if args.tile_size:
        overrides["tile_size"] = args.tile_size
    if args.no_data is not None:
        overrides["no_data"] = args.no_data
    options = dataclasses.replace(base, **overrides)
    result = export_geotiff(args.image, args.dest, format_options=options, bands=bands, progress=update)
    _say(args, f"{len(result.files)} GeoTIFF file(s) written: {', '.join(result.files[:3])}")
    return 0


# --- upload -----------------------------------------------------------------------------------------


def _cmd_upload(args: argparse.Namespace) -> int:
    from .upload import upload_image

    *records, out = args.paths
    if not records:
        raise OptionsError("RECORDS", "give the prediction files before the output GeoTIFF")
    update, close = _progress(args, "patch")
    try:
        result = upload_image(
            records if len(records) > 1 else records[0],
            args.mixer,
            out,
            bands=args.bands.split(",") if args.bands else None,
            kernel_size=tuple(args.kernel) if args.kernel else None,
            dtype=args.dtype,
            cloud_optimized=not args.no_cog,
            nodata=args.nodata,
            progress=update,
        )
    finally:
        close()
    _say(
        args,
        f"{result.patches} patches -> {result.path} ({result.width} x {result.height}, bands "
        f"{', '.join(result.bands)}, buffer {result.margin[0]}, {result.margin[1]} discarded)",
    )
    return 0


# --- table ------------------------------------------------------------------------------------------


def _read_table_file(path: str) -> Any:
    suffix = Path(path).suffix.lower()
    if suffix in (".json", ".geojson"):
        return path
    import pandas as pd

    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise OptionsError("IN", f"unknown table format {suffix!r} (csv, parquet, geojson, json)")


def _cmd_table(args: argparse.Namespace) -> int:
    from .table_export import export_table, read_table

    if args.read:
        frame = read_table(args.input)
        suffix = Path(args.output).suffix.lower()
        if suffix == ".csv":
            frame.to_csv(args.output, index=False)
        elif suffix in (".parquet", ".pq"):
            frame.to_parquet(args.output, index=False)
        else:
            raise OptionsError("OUT", f"unknown table format {suffix!r} (csv or parquet)")
        _say(args, f"{len(frame)} rows, {len(frame.columns)} properties -> {args.output}")
        return 0
    prefix = args.output
    for suffix in (".tfrecord.gz", ".tfrecord"):
        if prefix.endswith(suffix):
            prefix = prefix[: -len(suffix)]
    path = export_table(_read_table_file(args.input), prefix, geometry=args.geometry)
    _say(args, f"table -> {path}")
    return 0


# --- inspect ----------------------------------------------------------------------------------------


def _describe(value: Any) -> tuple[str, int]:
    if isinstance(value, list):
        return "bytes", len(value)
    return ("int64" if value.dtype == np.int64 else "float"), int(value.size)


def inspect_file(path: str) -> dict[str, Any]:
    """What ``geotfrecord inspect`` reports about one file."""
    with open(path, "rb") as f:
        compression = "gzip" if f.read(2) == b"\x1f\x8b" else "none"
    info: dict[str, Any] = {"path": path, "compression": compression, "records": 0, "crc": "ok"}
    features: dict[str, dict[str, Any]] = {}
    kinds = set()
    try:
        for index, record in enumerate(read_records(path)):
            info["records"] = index + 1
            from .examples import decode_sequence_example

            try:
                context, lists = decode_sequence_example(record)
                kind = "SequenceExample" if lists else "Example"
                decoded = (
                    decode_example(record) if not lists else {**context, **{k: v[0] for k, v in lists.items() if v}}
                )
            except ValueError as err:
                info["crc"] = "ok"
                info["decode_error"] = f"record {index}: {err}"
                break
            kinds.add(kind)
            for name, value in decoded.items():
                typ, length = _describe(value)
                entry = features.setdefault(name, {"type": typ, "length": length, "lengths_vary": False})
                if entry["length"] != length:
                    entry["lengths_vary"] = True
    except ValueError as err:
        info["crc"] = f"error: {err}"
    info["kind"] = "/".join(sorted(kinds)) or None
    info["features"] = features
    lengths = {f["length"] for f in features.values() if f["type"] != "bytes" and not f["lengths_vary"]}
    side = round(lengths.pop() ** 0.5) if len(lengths) == 1 else 0
    info["patch_shape"] = [side, side] if side and side * side in {f["length"] for f in features.values()} else None
    return info


def _cmd_inspect(args: argparse.Namespace) -> int:
    reports = [inspect_file(p) for p in args.files]
    if args.json:
        print(json.dumps({"files": reports}, indent=2))
    else:
        for r in reports:
            shape = "x".join(map(str, r["patch_shape"])) if r["patch_shape"] else "-"
            print(
                f"{r['path']}: {r['records']} records ({r['kind']}), {r['compression']}, CRC {r['crc']}, tile {shape}"
            )
            for name, f in r["features"].items():
                vary = " (varies)" if f["lengths_vary"] else ""
                print(f"  {name:<20} {f['type']:<6} {f['length']}{vary}")
    return 0 if all(r["crc"] == "ok" and "decode_error" not in r for r in reports) else 2


# --- preview ----------------------------------------------------------------------------------------


def _cmd_preview(args: argparse.Namespace) -> int:
    from .options import TFRecordOptions
    from .preview import render_preview

    options_json = _load_json(args.options) if args.options else None
    if options_json is None and not args.source.endswith(".json") and not args.patch:
        raise OptionsError("--patch", "required to preview an image (or give --options)")
    overrides: dict[str, Any] = {}
    if args.patch:
        overrides["patch_dimensions"] = tuple(args.patch)
    if args.kernel:
        overrides["kernel_size"] = tuple(args.kernel)
    if args.masked_threshold is not None:
        overrides["masked_threshold"] = args.masked_threshold
    overrides = _flag_checked(overrides)
    options = None
    if options_json is not None:  # flags override the file, as for export
        if _is_rest(options_json):
            rest = options_json.get("tfRecordOptions") or {}
            base = TFRecordOptions.from_rest(rest, prefix="tfRecordOptions.")
        else:
            base = TFRecordOptions.from_any(options_json)
        options = dataclasses.replace(base, **overrides)
    png = render_preview(
        args.source,
        args.png,
        patch_dimensions=overrides.get("patch_dimensions"),
        kernel_size=overrides.get("kernel_size", (1, 1)),
        masked_threshold=overrides.get("masked_threshold", 1.0),
        format_options=options,
    )
    _say(args, f"preview -> {png}")
    return 0


# --- demo -------------------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    """Export a synthetic GeoTIFF, read it back with CRC checks, upload it, and compare pixels."""
    import rasterio

    from .upload import upload_image

    out_dir = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="geotfrecord-demo-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    tif = write_sample_geotiff(out_dir / "sample.tif", rows=512, cols=640)
    patch, kernel = 128, 32
    update, close = _progress(args, "patch")
    start = time.perf_counter()
    try:
        result = export_image(
            tif, str(out_dir / "sample"), patch_dimensions=(patch, patch), kernel_size=(kernel, kernel), progress=update
        )
    finally:
        close()
    elapsed = time.perf_counter() - start
    records = sum(1 for f in result.files for _ in read_records(f))
    uploaded = upload_image(result.files, result.mixer, out_dir / "uploaded.tif")
    with rasterio.open(tif) as src, rasterio.open(uploaded.path) as back:
        same = np.array_equal(src.read(window=((0, back.height), (0, back.width))), back.read())
        same_geo = back.crs == src.crs and back.transform == src.transform
    if not (same and same_geo):
        raise AssertionError("the round trip changed the pixels or the georeferencing")
    info = build_info()
    size = sum(Path(f).stat().st_size for f in result.files)
    rate = result.bytes_written / 1e6 / elapsed
    _say(args, f"geotfrecord {info['version']} (gzip: {info['gzip_engines'][0]}, CRC32C {info['crc32c']})")
    _say(args, f"source   {tif} (4 bands x 512 x 640 float32, {SAMPLE_CRS})")
    _say(args, f"exported {result.patches_written} of {result.total_patches} patches {patch}x{patch}, kernel {kernel}")
    _say(args, f"         {len(result.files)} file(s), {size / 1e6:.2f} MB gzip, {rate:.0f} MB/s; mixer {result.mixer}")
    _say(args, f"read     {records} records back, every CRC verified")
    _say(args, f"uploaded {uploaded.path}: {uploaded.width} x {uploaded.height}, equal to the source pixel for pixel")
    return 0


# --- the parser -------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line (exit 2) that points to ``--help``, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _common(default: Any) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", default=default, help="no progress bar, no summary")
    common.add_argument("--debug", action="store_true", default=default, help="show the traceback of an error")
    return common


def _parser() -> argparse.ArgumentParser:
    # -q/--debug go before or after the command; the command's copies have no default, so that they
    # do not reset what was given before it.
    common = _common(argparse.SUPPRESS)
    parser = _Parser(
        prog="geotfrecord",
        description="Earth Engine's TFRecord and GeoTIFF exports, and the way back, on your own machine.",
        epilog="Run 'geotfrecord COMMAND --help' for a command's options and an example.",
        parents=[_common(False)],
    )
    parser.add_argument("--version", action="version", version=f"geotfrecord {build_info()['version']}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    def add(name: str, help_text: str, example: str) -> argparse.ArgumentParser:
        return commands.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=f"example:\n  {example}",
            parents=[common],
            formatter_class=fmt,
        )

    export = add("export", "export an image to TFRecord (or GeoTIFF) the Earth Engine way",
                 "geotfrecord export scene.tif out/scene --patch 256 256 --kernel 32 32")  # fmt: skip
    export.add_argument("image", help="GeoTIFF/COG path or URL")
    export.add_argument("dest", help="output prefix (local path or fsspec URL); a trailing / means a folder")
    export.add_argument("--options", metavar="FILE.json", help="formatOptions or REST ImageFileExportOptions JSON")
    export.add_argument("--format", choices=("tfrecord", "geotiff"), default="tfrecord")
    export.add_argument("--patch", type=int, nargs=2, metavar=("X", "Y"), help="patchDimensions")
    export.add_argument("--kernel", type=int, nargs=2, metavar=("X", "Y"), help="kernelSize")
    export.add_argument("--no-compress", action="store_true", help="write .tfrecord instead of .tfrecord.gz")
    export.add_argument("--max-file-size", type=parse_size, metavar="SIZE", help="maxFileSize, e.g. 1GiB")
    export.add_argument("--default-value", type=float, metavar="V", help="defaultValue for masked pixels")
    export.add_argument("--masked-threshold", type=float, metavar="R", help="maskedThreshold in [0, 1]")
    export.add_argument("--tensor-depths", nargs="+", metavar="BAND=D", help="tensorDepths of array bands")
    export.add_argument("--sequence-data", action="store_true", help="one SequenceExample per pixel")
    export.add_argument("--collapse-bands", action="store_true", help="all bands in one feature")
    export.add_argument("--integer-encoding", choices=("float", "native"), help="how integer bands are written")
    export.add_argument("--bands", metavar="B1,B2", help="bands to export, in order")
    export.add_argument("--level", type=int, help="gzip level (default: 1 with isal, 6 with zlib-ng)")
    export.add_argument("--gzip-engine", choices=("isal", "zlib-ng"), help="deflate engine (default: isal if built)")
    export.add_argument("--cloud-optimized", action="store_true", help="GeoTIFF: write COGs")
    export.add_argument("--file-dimensions", type=int, nargs=2, metavar=("W", "H"), help="GeoTIFF: split size")
    export.add_argument("--skip-empty-files", action="store_true", help="GeoTIFF: skip all-masked pieces")
    export.add_argument("--tile-size", type=int, help="GeoTIFF: internal tile size (default 256)")
    export.add_argument("--no-data", type=float, help="GeoTIFF: noData value")
    export.set_defaults(run=_cmd_export)

    upload = add("upload", "predictions + mixer -> one georeferenced GeoTIFF (the overlap discarded)",
                 "geotfrecord upload 'pred-*.tfrecord.gz' --mixer out/scene-mixer.json predicted.tif")  # fmt: skip
    upload.add_argument(
        "paths", nargs="+", metavar="RECORDS... OUT.tif", help="prediction files (or a glob), then the output"
    )
    upload.add_argument("--mixer", required=True, help="the export's mixer JSON")
    upload.add_argument("--kernel", type=int, nargs=2, metavar=("X", "Y"), help="the export's kernelSize, if needed")
    upload.add_argument("--bands", metavar="B1,B2", help="features to write as bands")
    upload.add_argument("--dtype", help="output pixel type (default float32)")
    upload.add_argument("--nodata", type=float, help="nodata value to record")
    upload.add_argument("--no-cog", action="store_true", help="plain tiled GeoTIFF instead of a COG")
    upload.set_defaults(run=_cmd_upload)

    table = add("table", "a table (csv, parquet, geojson) to TFRecord, or back with --read",
                "geotfrecord table points.geojson out/points.tfrecord.gz")  # fmt: skip
    table.add_argument("input", metavar="IN")
    table.add_argument("output", metavar="OUT")
    table.add_argument("--read", action="store_true", help="read IN.tfrecord.gz into OUT.csv or OUT.parquet")
    table.add_argument("--geometry", action="store_true", help="include the geometry as GeoJSON text")
    table.set_defaults(run=_cmd_table)

    inspect = add("inspect", "records, features, types, lengths, tile shape, CRC status of TFRecord files",
                  "geotfrecord inspect out/scene-00000.tfrecord.gz --json")  # fmt: skip
    inspect.add_argument("files", nargs="+", metavar="FILES")
    inspect.add_argument("--json", action="store_true", help="machine-readable output")
    inspect.set_defaults(run=_cmd_inspect)

    preview = add("preview", "draw an export's patch grid, buffers and dropped tiles to a PNG",
                  "geotfrecord preview scene.tif --patch 256 256 --kernel 32 32 --png layout.png")  # fmt: skip
    preview.add_argument("source", help="a mixer JSON, or an image (with --patch/--kernel or --options)")
    preview.add_argument("--png", required=True, help="output PNG")
    preview.add_argument("--options", metavar="FILE.json", help="formatOptions JSON")
    preview.add_argument("--patch", type=int, nargs=2, metavar=("X", "Y"))
    preview.add_argument("--kernel", type=int, nargs=2, metavar=("X", "Y"))
    preview.add_argument("--masked-threshold", type=float, metavar="R")
    preview.set_defaults(run=_cmd_preview)

    demo = add("demo", "export a synthetic GeoTIFF, read it back, upload it, print a summary", "geotfrecord demo")
    demo.add_argument("--out", help="folder for the demo files (default: a new temporary folder)")
    demo.set_defaults(run=_cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``geotfrecord`` console script; returns the exit code."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if args.command == "upload":
        # `upload RECORDS... --mixer M OUT.tif`: argparse stops the RECORDS... list at --mixer.
        args.paths += [e for e in extra if not e.startswith("-")]
        extra = [e for e in extra if e.startswith("-")]
    if extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.run(args))
    except (GeoTFRecordError, ValueError, OSError) as err:
        if args.debug:
            traceback.print_exc()
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        print(f"geotfrecord {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("geotfrecord: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        if args.debug:
            traceback.print_exc()
        print(
            f"geotfrecord {args.command}: unexpected error: {err!r} (run with --debug for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
