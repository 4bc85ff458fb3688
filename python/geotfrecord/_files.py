"""Opening inputs and writing outputs atomically, for local paths and fsspec URLs.

Outputs are written under a temporary name beside the final one and renamed into place only when
complete, so an interrupted run never leaves a file that looks finished. Temporary names end in
:data:`TEMP_SUFFIX` so that leftovers of a killed run are recognisable (and removable with
:func:`remove_stale_temporaries`).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from typing import IO, Any

__all__ = ["TEMP_SUFFIX", "AtomicOutput", "is_local", "open_input", "remove_stale_temporaries"]

TEMP_SUFFIX = ".geotfrecord-tmp"
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_local(path: str | os.PathLike[str]) -> bool:
    """True for a plain filesystem path or a ``file://`` URL."""
    text = os.fspath(path)
    return not _SCHEME.match(text) or text.startswith("file://")


def _local_path(path: str | os.PathLike[str]) -> str:
    text = os.fspath(path)
    return text[len("file://") :] if text.startswith("file://") else text


def _fsspec() -> Any:
    try:
        import fsspec
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("fsspec is needed for URLs as inputs or outputs: pip install fsspec") from err
    return fsspec


@contextlib.contextmanager
def open_input(path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> Iterator[IO[bytes]]:
    """Open a local path or fsspec URL (with fsspec ``storage_options``) for binary reading."""
    if is_local(path):
        with open(_local_path(path), "rb") as f:
            yield f
    else:
        with _fsspec().open(os.fspath(path), "rb", **(storage_options or {})) as f:
            yield f


class AtomicOutput:
    """A binary output that appears under its final name only when :meth:`commit` is called.

    Local files are written to ``.<name>.<token>.geotfrecord-tmp`` in the same folder and renamed
    with :func:`os.replace`; object stores reached through fsspec publish an object only when its
    upload completes, so the final name is written directly and the upload discarded on failure.

    Examples
    --------
    >>> out = AtomicOutput("/tmp/example.bin")
    >>> out.file.write(b"payload")
    7
    >>> out.commit()
    """

    def __init__(self, path: str | os.PathLike[str], storage_options: Mapping[str, Any] | None = None) -> None:
        self.path = os.fspath(path)
        self._committed = False
        if is_local(path):
            final = _local_path(path)
            folder, name = os.path.split(final)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self._temp = os.path.join(folder, f".{name}.{secrets.token_hex(4)}{TEMP_SUFFIX}")
            self._final = final
            self.file: IO[bytes] = open(self._temp, "wb")  # noqa: SIM115 - closed by commit/abort
            self._fs = None
        else:
            # url_to_fs, not get_fs_token_paths: the latter turns a path opened for writing into a
            # folder of numbered parts (<url>/0.part).
            fs, final = _fsspec().core.url_to_fs(self.path, **(storage_options or {}))
            self._fs = fs
            self._final = final
            self._temp = None
            parent = self._final.rsplit("/", 1)[0] if "/" in self._final else ""
            if parent:
                with contextlib.suppress(Exception):
                    fs.makedirs(parent, exist_ok=True)
            self.file = fs.open(self._final, "wb")

    def close(self) -> None:
        """Close the file without publishing it yet (object stores publish on close)."""
        if not self.file.closed:
            self.file.close()

    def commit(self) -> None:
        """Close the file and publish it under its final name."""
        if self._committed:
            return
        self.close()
        if self._temp is not None:
            os.replace(self._temp, self._final)
        self._committed = True

    def abort(self) -> None:
        """Discard everything written; nothing appears under the final name."""
        if self._committed:
            return
        self._committed = True
        if self._temp is not None:
            with contextlib.suppress(OSError):
                self.file.close()
            with contextlib.suppress(OSError):
                os.remove(self._temp)
            return
        discard = getattr(self.file, "discard", None)
        if callable(discard):
            with contextlib.suppress(Exception):
                discard()
        else:
            with contextlib.suppress(Exception):
                self.file.close()
            with contextlib.suppress(Exception):
                self._fs.rm(self._final)

    def __enter__(self) -> AtomicOutput:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def remove_stale_temporaries(folder: str | os.PathLike[str], names: str = "*") -> list[str]:
    """Delete the temporaries an interrupted run left in a local ``folder`` for final names matching the
    glob ``names`` (default: all of them); returns their paths.

    A temporary is ``.<final name>.<token>.geotfrecord-tmp``, so it is told apart from user files by
    its name alone.
    """
    import fnmatch

    removed = []
    if not is_local(folder) or not os.path.isdir(_local_path(folder)):
        return removed
    for entry in os.scandir(_local_path(folder)):
        name = entry.name
        if not (entry.is_file() and name.startswith(".") and name.endswith(TEMP_SUFFIX)):
            continue
        final = name[1 : -len(TEMP_SUFFIX)].rsplit(".", 1)[0]  # strip the dot, the suffix and the token
        if fnmatch.fnmatchcase(final, names):
            os.remove(entry.path)
            removed.append(entry.path)
    return removed
