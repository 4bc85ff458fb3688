"""Write, read and encode the same TFRecords with geotfrecord, TensorFlow, the tfrecord package and an ideal writer.

One process, one set of records: Examples of four float32 bands (default 384 x 384, realistic
smooth fields with noise), encoded once with geotfrecord.encode_example and written N times
(default: 340 MB of record payload). Every variant runs --repeat times, interleaved, and the best
time is kept; each output is checked (byte for byte against the framed records, after gunzip for
gzip files) and deleted. Reads are of files just written (warm page cache). "ideal" is one
sequential write() of the framed bytes (or a chunked read of them): the floor for that disk.

Run:  python benchmarks/compare.py            (about 2-3 minutes on 2 cores)
      python benchmarks/compare.py --quick    (a few seconds)
"""

from __future__ import annotations

import argparse
import gc
import gzip
import os
import resource
import struct
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import geotfrecord
from bench_data import tile_bands
from geotfrecord import _core

DEFAULT_TOTAL_MB = 340
QUICK_TOTAL_MB = 24
DEFAULT_RECORD_KIB = 384 * 384 * 4 * 4 // 1024  # 4 float32 bands of 384 x 384 = 2304 KiB
QUICK_RECORD_KIB = 192 * 192 * 4 * 4 // 1024
CHUNK = 16 << 20
TF = "TensorFlow"
NO_TF = "not installed (pip install tensorflow-cpu)"
NO_TFRECORD = "not installed (pip install tfrecord)"
IDEAL = "ideal"


@dataclass
class Case:
    """One way of doing a section's job; ``run(path)`` does it, ``check(path)`` returns an error or None."""

    name: str
    run: Callable[[str], Any] | None  # None: not available here (see note)
    check: Callable[[str], str | None] | None = None
    role: str = ""  # TF or IDEAL: the baselines of the ratios
    note: str = ""
    runs: list[tuple[float, float]] = field(default_factory=list)  # (seconds, CPU seconds of every thread)
    out_bytes: int | None = None
    error: str | None = None

    @property
    def best(self) -> float:
        return min(self.runs)[0] if self.runs else float("nan")

    @property
    def best_cpu(self) -> float:
        return min(self.runs)[1] if self.runs else float("nan")


@dataclass
class Section:
    title: str
    payload: int  # record bytes handled by one run
    cases: list[Case]
    writes: bool = False  # run() writes the path (else it reads an existing file)
    ideal: Case | None = None  # the floor from another section, when this one has none of its own
    prime: Callable[[], None] | None = None  # run untimed before each case


def mb(n: float) -> float:
    return n / 1e6


def same_as(expected: memoryview, path: str, compressed: bool) -> str | None:
    """None when the file (gunzipped if ``compressed``) holds exactly ``expected``, else what differs."""
    opener: Callable[..., Any] = gzip.open if compressed else open
    offset = 0
    with opener(path, "rb") as f:
        while chunk := f.read(CHUNK):
            if expected[offset : offset + len(chunk)] != chunk:
                return f"bytes differ from the framed records near offset {offset}"
            offset += len(chunk)
    if offset != len(expected):
        return f"{offset} bytes, expected {len(expected)}"
    return None


def drain(records: Iterable[Any], expected: bytes, count: int) -> None:
    """Consume a reader, checking every record; raise if any differs or the count is wrong."""
    n = 0
    for record in records:
        if record != expected:
            raise AssertionError(f"record {n} differs from what was written")
        n += 1
    if n != count:
        raise AssertionError(f"read {n} records, expected {count}")


def import_tf() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf


def import_tfrecord(tf: Any) -> Any:
    """The tfrecord package, or None. Its example_pb2 registers the same ``tensorflow.*`` protos as
    TensorFlow's, which protobuf refuses to load twice in one process, so beside TensorFlow it is
    given TensorFlow's module of the same definitions."""
    if tf is not None and "tfrecord.example_pb2" not in sys.modules:
        from tensorflow.core.example import example_pb2, feature_pb2

        shim = types.ModuleType("tfrecord.example_pb2")
        shim.__dict__.update({k: v for k, v in vars(feature_pb2).items() if not k.startswith("__")})
        shim.__dict__.update({k: v for k, v in vars(example_pb2).items() if not k.startswith("__")})
        sys.modules["tfrecord.example_pb2"] = shim
    try:
        import tfrecord.reader
        import tfrecord.writer
    except ImportError:
        return None
    return tfrecord


def load_average() -> str:
    try:
        return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def cpu_seconds() -> float:
    """User + system CPU time of this process, every thread."""
    t = os.times()
    return t.user + t.system


def missing(name: str, note: str) -> Case:
    """A row for a peer that is not installed."""
    return Case(name, None, note=note)


def run_sections(sections: list[Section], folder: str, repeat: int) -> None:
    """Every case of every section, ``repeat`` times, interleaved; checks on the first round."""
    for round_index in range(repeat):
        for section in sections:
            for case in section.cases:
                if case.error is not None or case.run is None:
                    continue
                path = os.path.join(folder, f"out-{id(case)}.tfrecord")
                gc.collect()
                if section.prime is not None:
                    section.prime()
                try:
                    cpu_start = cpu_seconds()
                    start = time.perf_counter()
                    case.run(path)
                    elapsed = time.perf_counter() - start
                    cpu = cpu_seconds() - cpu_start
                    if round_index == 0 and case.check is not None:
                        case.error = case.check(path)
                    if section.writes:
                        case.out_bytes = os.path.getsize(path)
                except Exception as err:  # report it in the table, go on with the others
                    case.error = f"{type(err).__name__}: {err}"
                    continue
                finally:
                    if section.writes and os.path.exists(path):
                        os.remove(path)
                case.runs.append((elapsed, cpu))
        print(f"  round {round_index + 1}/{repeat} done", file=sys.stderr, flush=True)


def print_tables(sections: list[Section]) -> None:
    header = f"{'':<52} {'seconds':>8} {'CPU s':>6} {'MB/s':>8} {'out MB':>8} {'t/t_TF':>7} {'t/ideal':>7}"
    for section in sections:
        print()
        print(f"== {section.title} ({mb(section.payload):.1f} MB of records) ==")
        print(header)
        tf_case = next((c for c in section.cases if c.role == TF and c.runs), None)
        ideal = next((c for c in section.cases if c.role == IDEAL and c.runs), section.ideal)
        for case in section.cases:
            if case.error is not None or not case.runs:
                print(f"{case.name:<52} {'FAILED' if case.error else 'skipped'}: {case.error or case.note}")
                continue
            t = case.best
            out = f"{mb(case.out_bytes):8.1f}" if case.out_bytes is not None else f"{'':>8}"
            vs_tf = f"{t / tf_case.best:7.2f}" if tf_case is not None else f"{'n/a':>7}"
            vs_ideal = f"{t / ideal.best:7.2f}" if ideal is not None and ideal.runs else f"{'n/a':>7}"
            note = f"  {case.note}" if case.note else ""
            rate = mb(section.payload) / t
            print(f"{case.name:<52} {t:8.3f} {case.best_cpu:6.2f} {rate:8.0f} {out} {vs_tf} {vs_ideal}{note}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, help=f"records to write (default: {DEFAULT_TOTAL_MB} MB of payload)")
    parser.add_argument("--record-kib", type=int, help=f"KiB of band data per record (default {DEFAULT_RECORD_KIB})")
    parser.add_argument(
        "--compress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="only gzip (--compress) or only plain (--no-compress) files; default both",
    )
    parser.add_argument("--level", type=int, default=6, choices=range(10), metavar="0-9", help="gzip level (default 6)")
    parser.add_argument("--repeat", type=int, help="runs of each variant; the best is kept (default 3, --quick 1)")
    parser.add_argument("--encode-records", type=int, default=16, help="tiles encoded per encode run (default 16)")
    parser.add_argument("--outdir", help="folder to write in (a temporary folder inside it; default: the system's)")
    parser.add_argument("--quick", action="store_true", help=f"small sizes: {QUICK_TOTAL_MB} MB of smaller records")
    args = parser.parse_args(argv)
    for name in ("records", "record_kib", "repeat", "encode_records"):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")

    record_kib = args.record_kib or (QUICK_RECORD_KIB if args.quick else DEFAULT_RECORD_KIB)
    repeat = args.repeat or (1 if args.quick else 3)
    modes = [False, True] if args.compress is None else [bool(args.compress)]
    threads = os.cpu_count() or 1
    tf = import_tf()
    tfrecord = import_tfrecord(tf)

    # The records: one Example of four bands, encoded once and reused.
    values_per_band = record_kib * 1024 // 16
    bands = tile_bands(values_per_band)
    start = time.perf_counter()
    record = geotfrecord.encode_example(bands)
    first_encode = time.perf_counter() - start
    total_mb = QUICK_TOTAL_MB if args.quick else DEFAULT_TOTAL_MB
    count = args.records or max(1, round(total_mb * 1e6 / len(record)))
    records = [record] * count
    payload = count * len(record)
    framed = _core.frame_records(records)
    expected = memoryview(framed)
    shape = "x".join(map(str, next(iter(bands.values())).shape))
    packed = _core.gzip_compress(record, args.level)

    print(f"geotfrecord {geotfrecord.__version__} {geotfrecord.build_info()}")
    print(f"TensorFlow {tf.__version__ if tf else 'not installed'}; tfrecord package {'yes' if tfrecord else 'no'}")
    print(
        f"{count} records x {len(record)} B (Example of {len(bands)} float32 bands {shape}) = {mb(payload):.1f} MB; "
        f"framed {mb(len(framed)):.1f} MB; one record gzips to {len(packed) / len(record):.3f} at level {args.level}"
    )
    print(f"first encode_example: {first_encode * 1e3:.2f} ms; best of {repeat}; {threads} CPUs; {load_average()}")

    with tempfile.TemporaryDirectory(prefix="geotfrecord-compare-", dir=args.outdir) as folder:
        print(f"writing in {folder}", file=sys.stderr)
        sections = build_sections(args, folder, tf, tfrecord, modes, threads, bands, record, records, expected)
        run_sections(sections, folder, repeat)
    print_tables(sections)

    print()
    print("t/t_TF: time / TensorFlow's time for the same job (lower is faster); t/ideal: time / the ideal floor")
    print("(one write() of the framed bytes, or a 16 MiB-chunked read of them; gzip rows use the plain floor).")
    print(f"{load_average()} (other work on the machine makes the times longer; see CPU s)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB (including the {mb(len(framed)):.0f} MB framed reference held for the checks)")
    failed = [c.name for s in sections for c in s.cases if c.error is not None]
    if failed:
        print(f"FAILED: {', '.join(failed)}")
    return 1 if failed else 0


def build_sections(
    args: argparse.Namespace,
    folder: str,
    tf: Any,
    tfrecord: Any,
    modes: list[bool],
    threads: int,
    bands: dict[str, np.ndarray],
    record: bytes,
    records: list[bytes],
    expected: memoryview,
) -> list[Section]:
    count = len(records)
    payload = count * len(record)
    level = args.level
    sections: list[Section] = []

    # --- writing -----------------------------------------------------------------------------------
    def check_file(compressed: bool) -> Callable[[str], str | None]:
        return lambda path: same_as(expected, path, compressed)

    def geo_write(compressed: bool, n_threads: int) -> Callable[[str], Any]:
        def run(path: str) -> None:
            written = geotfrecord.write_records(path, records, compressed=compressed, level=level, threads=n_threads)
            assert written == count

        return run

    def tf_write(compressed: bool) -> Callable[[str], Any]:
        options = tf.io.TFRecordOptions(compression_type="GZIP", compression_level=level) if compressed else None

        def run(path: str) -> None:
            with tf.io.TFRecordWriter(path, options) as writer:
                for r in records:
                    writer.write(r)

        return run

    def tfrecord_write(path: str) -> None:
        # tfrecord.writer.TFRecordWriter.write() serialises a dict first; this is the rest of it, as it is.
        writer = tfrecord.writer.TFRecordWriter(path)
        masked_crc = tfrecord.writer.TFRecordWriter.masked_crc
        for r in records:
            length_bytes = struct.pack("<Q", len(r))
            writer.file.write(length_bytes)
            writer.file.write(masked_crc(length_bytes))
            writer.file.write(r)
            writer.file.write(masked_crc(r))
        writer.close()

    def ideal_write(path: str) -> None:
        with open(path, "wb") as f:
            f.write(expected)

    def check_tf_gzip(path: str) -> str | None:
        # Also: geotfrecord reads TensorFlow's gzip file back.
        error = same_as(expected, path, True)
        if error is None:
            drain(geotfrecord.read_records(path), record, count)
        return error

    def prime() -> None:
        # Write and delete a file of the same size first, so that every writer finds the same warm
        # page-cache pages: in a VM that hands freed memory back to its host, the first writer after a
        # pause otherwise pays for fresh pages (2-5x slower) and the order of the rows decides the ranking.
        scratch = os.path.join(folder, "prime.tmp")
        with open(scratch, "wb") as f:
            f.write(expected)
        os.remove(scratch)

    ideal_writer = Case("ideal: one write() of the framed bytes", ideal_write, check_file(False), role=IDEAL)
    if False in modes:
        cases = [
            Case("geotfrecord.write_records", geo_write(False, threads), check_file(False)),
            Case("tf.io.TFRecordWriter", tf_write(False), check_file(False), role=TF)
            if tf
            else missing("tf.io.TFRecordWriter", NO_TF),
            Case("tfrecord pkg (its framing of the same bytes)", tfrecord_write, check_file(False))
            if tfrecord
            else missing("tfrecord package", NO_TFRECORD),
            ideal_writer,
        ]
        sections.append(Section("write, plain", payload, cases, writes=True, prime=prime))
    if True in modes:
        cases = [
            Case(f"geotfrecord.write_records gzip (threads={threads})", geo_write(True, threads), check_file(True))
        ]
        if threads > 1:
            cases.append(Case("geotfrecord.write_records gzip (threads=1)", geo_write(True, 1), check_file(True)))
        cases.append(
            Case("tf.io.TFRecordWriter GZIP", tf_write(True), check_tf_gzip, role=TF)
            if tf
            else missing("tf.io.TFRecordWriter GZIP", NO_TF)
        )
        if False not in modes:
            cases.append(ideal_writer)
        sections.append(
            Section(
                f"write, gzip level {level}",
                payload,
                cases,
                writes=True,
                ideal=ideal_writer if False in modes else None,
                prime=prime,
            )
        )

    # --- reading (files written once, here, by geotfrecord) -------------------------------------------
    read_ideal: Case | None = None
    for compressed in modes:
        path = os.path.join(folder, "read.tfrecord" + (".gz" if compressed else ""))
        geotfrecord.write_records(path, records, compressed=compressed, level=level)
        error = same_as(expected, path, compressed)
        if error is not None:
            raise SystemExit(f"the file to read back is wrong: {error}")

        def geo_read(_: str, path: str = path) -> None:
            drain(geotfrecord.read_records(path), record, count)

        def tf_read(_: str, path: str = path, compressed: bool = compressed) -> None:
            dataset = tf.data.TFRecordDataset(path, compression_type="GZIP" if compressed else "")
            drain(dataset.as_numpy_iterator(), record, count)

        def tfrecord_read(_: str, path: str = path, compressed: bool = compressed) -> None:
            views = tfrecord.reader.tfrecord_iterator(path, compression_type="gzip" if compressed else None)
            drain((bytes(v) for v in views), record, count)

        def ideal_read(_: str, path: str = path) -> None:
            buffer = bytearray(CHUNK)
            with open(path, "rb", buffering=0) as f:
                while f.readinto(buffer):
                    pass

        cases = [
            Case("geotfrecord.read_records", geo_read),
            Case("tf.data.TFRecordDataset" + (" GZIP" if compressed else ""), tf_read, role=TF)
            if tf
            else missing("tf.data.TFRecordDataset", NO_TF),
            Case("tfrecord pkg tfrecord_iterator (no CRC check)", tfrecord_read)
            if tfrecord
            else missing("tfrecord package", NO_TFRECORD),
        ]
        if not compressed:
            read_ideal = Case("ideal: chunked read of the framed bytes", ideal_read, role=IDEAL)
            cases.append(read_ideal)
        elif read_ideal is None:
            plain_path = os.path.join(folder, "read.tfrecord")
            with open(plain_path, "wb") as f:
                f.write(expected)
            read_ideal = Case(
                "ideal: chunked read of the framed bytes (plain)",
                lambda _, p=plain_path: ideal_read(_, p),
                role=IDEAL,
            )
            cases.append(read_ideal)
        title = f"read, {'gzip' if compressed else 'plain'} (file by geotfrecord, warm cache)"
        sections.append(Section(title, payload, cases, ideal=read_ideal))

    # --- encoding ------------------------------------------------------------------------------------
    n_encode = max(1, min(args.encode_records, count))
    encode_payload = n_encode * len(record)

    def geo_encode(_: str) -> None:
        for _i in range(n_encode):
            out = geotfrecord.encode_example(bands)
        assert out == record

    def tf_example(values: dict[str, np.ndarray]) -> bytes:
        feature = {
            name: tf.train.Feature(float_list=tf.train.FloatList(value=arr.reshape(-1).tolist()))
            for name, arr in values.items()
        }
        return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()

    def tf_encode(_: str) -> None:
        for _i in range(n_encode):
            out = tf_example(bands)
        assert tf.train.Example.FromString(out) == tf.train.Example.FromString(record)

    def tfrecord_encode(_: str) -> None:
        serialize = tfrecord.writer.TFRecordWriter.serialize_tf_example
        for _i in range(n_encode):
            out = serialize({name: (arr.reshape(-1).tolist(), "float") for name, arr in bands.items()})
        parse = tfrecord.example_pb2.Example.FromString
        assert parse(out) == parse(record)  # map order is not fixed by SerializeToString()

    def ideal_encode(_: str) -> None:
        for _i in range(n_encode):
            out = b"".join(arr.tobytes() for arr in bands.values())
        assert len(out) == 4 * values_per_band * len(bands)

    values_per_band = next(iter(bands.values())).size
    cases = [
        Case("geotfrecord.encode_example", geo_encode),
        Case("tf.train.Example(... FloatList(arr.tolist()))", tf_encode, role=TF)
        if tf
        else missing("tf.train.Example", NO_TF),
        Case("tfrecord pkg serialize_tf_example(tolist)", tfrecord_encode)
        if tfrecord
        else missing("tfrecord package", NO_TFRECORD),
        Case("ideal: copy the band bytes into one bytes", ideal_encode, role=IDEAL),
    ]
    sections.append(Section(f"encode Example x {n_encode}", encode_payload, cases))
    return sections


if __name__ == "__main__":
    sys.exit(main())
