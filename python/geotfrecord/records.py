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
from collections.abc import Iterable, Iterator
from typing import Any

from . import _core
from ._files import AtomicOutput, open_input
from .errors import CorruptRecordError

__all__ = ["GZIP_MAGIC", "RecordWriter", "read_records", "write_records"]

#: The first two bytes of every gzip member; compression is detected from content, not the suffix.
GZIP_MAGIC = b"\x1f\x8b"
#: Suffix of compressed files (Earth Engine appends ".gz").
GZIP_SUFFIX = ".gz"
#: Bytes read from a file at a time.
READ_CHUNK = 4 << 20
#: Records are framed and written in batches of about this many bytes.
WRITE_BATCH = 4 << 20


class RecordWriter:
    """Write TFRecord records to one file; the file appears under its name only when closed.

    Parameters
    ----------
    path
        Local path or fsspec URL.
    compressed
        Gzip the file. ``None`` (the default) compresses when ``path`` ends in ``.gz``.
    level
        Gzip level, 0-9.

    Examples
    --------
    >>> with RecordWriter("/tmp/out.tfrecord") as w:
    ...     w.write(b"abc")
    >>> w.records_written
    1
    """

    def __init__(self, path: str | os.PathLike[str], *, compressed: bool | None = None, level: int = 6) -> None:
        self.path = os.fspath(path)
        self.compressed = self.path.endswith(GZIP_SUFFIX) if compressed is None else bool(compressed)
        self._compressor = _core.GzipCompressor(level) if self.compressed else None
        self._output = AtomicOutput(self.path)
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._bytes_out = 0
        self.records_written = 0
        self.bytes_written = 0  # framed bytes, before compression
        self.closed = False

    def write(self, record: bytes | bytearray | memoryview) -> None:
        """Append one record."""
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
        size = memoryview(framed).nbytes
        self.bytes_written += size
        data = self._compressor.compress(framed) if self._compressor is not None else framed
        if len(data):
            self._output.file.write(data)
            self._bytes_out += len(data)

    def flush(self) -> None:
        """Push buffered records through the compressor to the file (does not end the gzip member)."""
        self._flush_pending()
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
            if self._compressor is not None:
                tail = self._compressor.finish()
                if not self._bytes_out and not tail:
                    # No records at all: still a valid (empty) gzip file rather than zero bytes.
                    tail = _core.gzip_compress(b"", self._compressor.level)
                self._output.file.write(tail)
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
        self._output.abort()

    def __enter__(self) -> RecordWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_records(
    path: str | os.PathLike[str],
    records: Iterable[bytes],
    *,
    compressed: bool | None = None,
    level: int = 6,
) -> int:
    """Write ``records`` to one TFRecord file and return how many were written.

    ``compressed=None`` gzips when ``path`` ends in ``.gz``. The file is written under a temporary
    name and renamed into place when complete.

    Examples
    --------
    >>> write_records("/tmp/two.tfrecord", [b"a", b"b"])
    2
    """
    with RecordWriter(path, compressed=compressed, level=level) as writer:
        writer.write_many(records)
    return writer.records_written


def read_records(
    path: str | os.PathLike[str], *, max_record_size: int = _core.DEFAULT_MAX_RECORD_SIZE
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
    with open_input(path) as f:
        chunk = f.read(READ_CHUNK)
        inflater = _core.GzipDecompressor() if chunk[:2] == GZIP_MAGIC else None
        try:
            while chunk:
                data = inflater.decompress(chunk) if inflater is not None else chunk
                yield from parser.feed(data)
                chunk = f.read(READ_CHUNK)
            if inflater is not None:
                inflater.finish()
            parser.finish()
        except (_core.RecordFormatError, _core.GzipFormatError) as err:
            raise CorruptRecordError(name, parser.records_read, _with_record(err, parser)) from None


def _with_record(err: Exception, parser: Any) -> str:
    text = str(err)
    return text if text.startswith("record ") else f"record {parser.records_read}: {text}"
