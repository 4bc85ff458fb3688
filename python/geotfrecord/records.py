"""Reading and writing TFRecord files, plain or gzip, with every CRC checked.

The framing and checksums are done by the compiled core; this module only moves bytes between it
and files (local paths or fsspec URLs).

Examples
--------
>>> import geotfrecord
>>> geotfrecord.write_records("/tmp/demo.tfrecord.gz", [b"first", b"second"])
2
>>> list(geotfrecord.read_records("/tmp/demo.tfrecord.gz"))
[b'first', b'second']
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from . import _core
from ._files import AtomicOutput, open_input
from .errors import CorruptRecordError

__all__ = ["GZIP_MAGIC", "RecordWriter", "ShardWriter", "read_records", "write_records"]

#: The first two bytes of every gzip member; compression is detected from content, not the suffix.
GZIP_MAGIC = b"\x1f\x8b"
#: Suffix of compressed files (Earth Engine appends ".gz").
GZIP_SUFFIX = ".gz"
#: Bytes read from a file at a time.
READ_CHUNK = 4 << 20
#: Most decompressed bytes produced at a time when reading gzip.
INFLATE_STEP = 16 << 20
#: Records are framed and written in batches of about this many bytes.
WRITE_BATCH = 4 << 20
#: Gzip files are written as independent members of this many uncompressed bytes (the last one
#: shorter, never empty), deflated in parallel. TensorFlow's GZIP reader and Python's gzip read
#: concatenated members as one stream; the member boundaries do not depend on the thread count.
GZIP_MEMBER_SIZE = 4 << 20


def default_threads() -> int:
    """Threads to use when not told: the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def is_gzip(head: bytes) -> bool:
    """Whether a file starting with ``head`` is gzip rather than plain TFRecord.

    The gzip magic alone is not enough: a plain file whose first record is 35615 (0x8b1f) bytes long,
    plus any multiple of 65536, starts with the same two bytes. A valid TFRecord header (the length's
    masked CRC) decides for plain.
    """
    if head[:3] != GZIP_MAGIC + b"\x08":
        return False
    if len(head) >= 12:
        stored = int.from_bytes(head[8:12], "little")
        if stored == _core.mask_crc(_core.crc32c(head[:8])):
            return False
    return True


#: The gzip engines this build has, best first: ISA-L's igzip where libisal was found, and zlib-ng.
GZIP_ENGINES = tuple(name for name, _ in _core.GZIP_ENGINES)
#: Each engine's default level: the fastest with a ratio no worse than zlib-ng level 6 on imagery
#: (igzip level 1 keeps 84.9% of smooth float32 bands at ~490 MB/s; zlib-ng level 6 keeps 85.1% at ~47 MB/s).
DEFAULT_GZIP_LEVELS = {"isal": 1, "zlib-ng": 6}


def gzip_settings(engine: str | None, level: int | None) -> tuple[str, int]:
    """(engine, level) with the defaults filled in: ISA-L when this build has it, else zlib-ng."""
    from .errors import OptionsError

    if engine is None:
        engine = "isal" if "isal" in GZIP_ENGINES else "zlib-ng"
    if engine not in GZIP_ENGINES:
        raise OptionsError("gzip_engine", f"{engine!r} is not in this build (available: {', '.join(GZIP_ENGINES)})")
    if level is None:
        level = DEFAULT_GZIP_LEVELS[engine]
    highest = 3 if engine == "isal" else 9
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= highest:
        raise OptionsError("gzip_level", f"{engine} levels are 0-{highest}, got {level!r}")
    return engine, level


class _MemberCompressor:
    """Cuts the stream into GZIP_MEMBER_SIZE chunks, deflates each as a gzip member on worker
    threads (the core releases the GIL) and writes the members in stream order."""

    def __init__(self, write: Callable[[bytes], None], engine: str, level: int, threads: int) -> None:
        self._write = write
        self._engine = engine
        self._level = level
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="geotfrecord-gzip") if threads > 1 else None
        self._inflight: deque[Future[bytes]] = deque()
        self._max_inflight = 2 * threads
        self._carry = bytearray()
        self.bytes_out = 0

    def feed(self, data: Any) -> None:
        view = memoryview(data).cast("B")
        if self._carry:
            take = min(len(view), GZIP_MEMBER_SIZE - len(self._carry))
            self._carry += view[:take]
            view = view[take:]
            if len(self._carry) == GZIP_MEMBER_SIZE:
                self._submit(bytes(self._carry))
                self._carry.clear()
        while len(view) >= GZIP_MEMBER_SIZE:
            self._submit(view[:GZIP_MEMBER_SIZE])  # no copy: the view keeps the caller's buffer alive
            view = view[GZIP_MEMBER_SIZE:]
        if len(view):
            self._carry += view

    def _submit(self, chunk: Any) -> None:
        if self._pool is None:
            self._emit(_core.gzip_compress(chunk, self._level, self._engine))
            return
        self._inflight.append(self._pool.submit(_core.gzip_compress, chunk, self._level, self._engine))
        while len(self._inflight) > self._max_inflight:
            self._emit(self._inflight.popleft().result())

    def _emit(self, member: bytes) -> None:
        self._write(member)
        self.bytes_out += len(member)

    def flush(self) -> None:
        """End the current member (if it holds anything) and write every member so far."""
        if self._carry:
            self._submit(bytes(self._carry))
            self._carry.clear()
        while self._inflight:
            self._emit(self._inflight.popleft().result())

    def finish(self) -> None:
        self.flush()
        if not self.bytes_out:
            # No records at all: still a valid (empty) gzip file rather than zero bytes.
            self._emit(_core.gzip_compress(b"", self._level, self._engine))
        self.shutdown()

    def shutdown(self) -> None:
        if self._pool is not None:
            for future in self._inflight:
                future.cancel()
            self._pool.shutdown(wait=True)
            self._pool = None


class RecordWriter:
    """Write TFRecord records to one file; the file appears under its name only when closed.

    Parameters
    ----------
    path
        Local path or fsspec URL.
    compressed
        Gzip the file. ``None`` (the default) compresses when ``path`` ends in ``.gz``.
    level, gzip_engine
        Gzip level and engine: ``"isal"`` (ISA-L's igzip, levels 0-3, default 1; where the build found
        libisal, and then the default) or ``"zlib-ng"`` (levels 0-9, default 6).
    threads
        Threads deflating in parallel (default: all cores); the bytes written do not depend on it.
    storage_options
        fsspec options for a URL ``path`` (credentials, endpoint).

    Examples
    --------
    >>> with RecordWriter("/tmp/out.tfrecord") as w:
    ...     w.write(b"abc")
    >>> w.records_written
    1
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        compressed: bool | None = None,
        level: int | None = None,
        threads: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        gzip_engine: str | None = None,
    ) -> None:
        self.path = os.fspath(path)
        engine, level = gzip_settings(gzip_engine, level)
        self.compressed = self.path.endswith(GZIP_SUFFIX) if compressed is None else bool(compressed)
        self._output = AtomicOutput(self.path, storage_options)
        try:
            self._gzip = (
                _MemberCompressor(self._output.file.write, engine, level, threads or default_threads())
                if self.compressed
                else None
            )
        except BaseException:
            self._output.abort()
            raise
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self.records_written = 0
        self.bytes_written = 0  # framed bytes, before compression
        self.closed = False

    def write(self, record: bytes | bytearray | memoryview) -> None:
        """Append one record (a bytes-like object; mutable ones are copied, so reusing a buffer is safe)."""
        if not isinstance(record, bytes):
            if isinstance(record, str):
                raise TypeError("a record must be bytes-like, not str (encode it first)")
            record = bytes(memoryview(record).cast("B"))
        self._pending.append(record)
        self._pending_bytes += len(record)
        self.records_written += 1
        if self._pending_bytes >= WRITE_BATCH:
            self._flush_pending()

    def write_many(self, records: Iterable[bytes]) -> None:
        """Append records in order."""
        for record in records:
            self.write(record)

    def write_framed(self, framed: Any, count: int) -> None:
        """Append ``count`` records that are already framed (from the core's encoders)."""
        self._flush_pending()
        self.records_written += count
        self._emit(framed)

    def _flush_pending(self) -> None:
        if self._pending:
            framed = _core.frame_records(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            self._emit(framed)

    def _emit(self, framed: Any) -> None:
        self.bytes_written += memoryview(framed).nbytes
        if self._gzip is not None:
            self._gzip.feed(framed)
        else:
            self._output.file.write(framed)

    def flush(self) -> None:
        """Write everything buffered to the file (with gzip, this ends the current member)."""
        self._flush_pending()
        if self._gzip is not None:
            self._gzip.flush()
        self._output.file.flush()

    def close(self, *, publish: bool = True) -> None:
        """Finish the file and move it into place; calling it again does nothing.

        With ``publish=False`` the finished file stays under its temporary name until :meth:`publish`,
        so that a set of files (the shards of one export) can appear together.
        """
        if self.closed:
            if publish:
                self.publish()
            return
        try:
            self._flush_pending()
            if self._gzip is not None:
                self._gzip.finish()
            self._output.close()
            if publish:
                self._output.commit()
        except BaseException:
            self._output.abort()
            raise
        finally:
            self.closed = True

    def publish(self) -> None:
        """Move a closed file to its final name (done by :meth:`close` unless told otherwise)."""
        self._output.commit()

    def abort(self) -> None:
        """Discard the file being written (or closed but not yet published)."""
        self.closed = True
        if self._gzip is not None:
            self._gzip.shutdown()
        self._output.abort()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class ShardWriter:
    """Appends framed records to numbered files (``name_for(0)``, ``name_for(1)``, …), starting a new
    file when the next record would push the current one past ``max_file_size`` bytes (before
    compression); a record larger than that gets a file of its own. Records keep their order across
    files. Every file stays under a temporary name until :meth:`close` publishes them all together.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> w = ShardWriter(lambda i: f"{d}/part-{i}.tfrecord", compressed=False, max_file_size=40)
    >>> framed = _core.frame_records([b"a" * 10, b"b" * 10, b"c" * 30])
    >>> w.append(np.frombuffer(framed, np.uint8), np.array([26, 26, 46], np.uint64))
    >>> [os.path.basename(p) for p in w.close()]
    ['part-0.tfrecord', 'part-1.tfrecord', 'part-2.tfrecord']
    """

    def __init__(
        self,
        name_for: Callable[[int], str],
        *,
        compressed: bool,
        max_file_size: int,
        level: int | None = None,
        threads: int | None = None,
        storage_options: Mapping[str, Any] | None = None,
        gzip_engine: str | None = None,
    ) -> None:
        self._name_for = name_for
        self._gzip_engine = gzip_engine
        self._storage_options = storage_options
        self._compressed = compressed
        self._max_file_size = max_file_size
        self._level = level
        self._threads = threads
        self._writers: list[RecordWriter] = []
        self._current: RecordWriter | None = None
        self._current_bytes = 0
        self.records = 0
        self.bytes = 0

    def _rotate(self) -> RecordWriter:
        if self._current is not None:
            self._current.close(publish=False)
        self._current = RecordWriter(
            self._name_for(len(self._writers)),
            compressed=self._compressed,
            level=self._level,
            threads=self._threads,
            storage_options=self._storage_options,
            gzip_engine=self._gzip_engine,
        )
        self._writers.append(self._current)
        self._current_bytes = 0
        return self._current

    def append(self, framed: np.ndarray, sizes: np.ndarray) -> None:
        limit = self._max_file_size
        start, offset, n = 0, 0, len(sizes)
        ends = np.cumsum(sizes, dtype=np.uint64)
        while start < n:
            writer = self._current
            room = limit - self._current_bytes if writer is not None else 0
            base = int(ends[start - 1]) if start else 0
            fits = int(np.searchsorted(ends[start:], base + max(room, 0), side="right"))
            if fits == 0:
                if writer is not None and self._current_bytes > 0:
                    self._rotate()
                    continue
                if writer is None:
                    self._rotate()
                    continue
                fits = 1  # a record larger than maxFileSize: a file of its own
            stop = start + fits
            nbytes = int(ends[stop - 1]) - base
            self._current.write_framed(framed[offset : offset + nbytes], fits)
            self._current_bytes += nbytes
            offset += nbytes
            start = stop
        self.records += n
        self.bytes += int(ends[-1]) if n else 0

    def close(self) -> list[str]:
        """Finish every shard, then publish them all under their final names."""
        if self._current is not None:
            self._current.close(publish=False)
        for w in self._writers:
            w.publish()
        return [w.path for w in self._writers]

    def abort(self) -> None:
        for w in self._writers:
            w.abort()


def write_records(
    path: str | os.PathLike[str],
    records: Iterable[bytes],
    *,
    compressed: bool | None = None,
    level: int | None = None,
    threads: int | None = None,
    gzip_engine: str | None = None,
) -> int:
    """Write ``records`` to one TFRecord file and return how many were written.

    ``compressed=None`` gzips when ``path`` ends in ``.gz``. The file is written under a temporary
    name and renamed into place when complete.

    Examples
    --------
    >>> write_records("/tmp/two.tfrecord", [b"a", b"b"])
    2
    """
    with RecordWriter(path, compressed=compressed, level=level, threads=threads, gzip_engine=gzip_engine) as writer:
        writer.write_many(records)
    return writer.records_written


def read_records(
    path: str | os.PathLike[str],
    *,
    max_record_size: int = _core.DEFAULT_MAX_RECORD_SIZE,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[bytes]:
    """Iterate over the records of a TFRecord file, verifying both CRCs of each.

    Gzip is detected from the content. A corrupt or truncated file raises
    :class:`~geotfrecord.CorruptRecordError` naming the file and the record index; nothing is
    skipped silently. A record longer than ``max_record_size`` is rejected before any allocation.

    Examples
    --------
    >>> write_records("/tmp/one.tfrecord.gz", [b"x"])
    1
    >>> [r for r in read_records("/tmp/one.tfrecord.gz")]
    [b'x']
    """
    name = os.fspath(path)
    parser = _core.RecordParser(max_record_size)
    with open_input(path, storage_options) as f:
        chunk = f.read(READ_CHUNK)
        inflater = _core.GzipDecompressor() if is_gzip(chunk) else None
        try:
            while chunk:
                if inflater is None:
                    yield from parser.feed(chunk)
                else:
                    # Inflate in bounded steps: a chunk of zeros (masked tiles) can expand a thousandfold.
                    yield from parser.feed(inflater.decompress(chunk, INFLATE_STEP))
                    while inflater.has_pending_input:
                        yield from parser.feed(inflater.decompress(b"", INFLATE_STEP))
                chunk = f.read(READ_CHUNK)
            if inflater is not None:
                inflater.finish()
            parser.finish()
        except (_core.RecordFormatError, _core.GzipFormatError) as err:
            raise CorruptRecordError(name, parser.records_read, _with_record(err, parser)) from None


def _with_record(err: Exception, parser: Any) -> str:
    text = str(err)
    return text if text.startswith("record ") else f"record {parser.records_read}: {text}"
