"""Reading exported patches back for training, and the record-length arithmetic shared with the
way back: which tile size a record's length means.

Examples
--------
>>> tile_margin(288 * 288, (256, 256))
(16, 16)
>>> tile_margin(256 * 256, (256, 256))
(0, 0)
"""

from __future__ import annotations

import glob as globlib
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import CorruptRecordError, OptionsError
from .examples import decode_example
from .mixer import Mixer
from .records import read_records

__all__ = ["expand_files", "iter_records", "read_patches", "tile_margin"]


def expand_files(files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[str]:
    """One path, a glob (sorted), or a list of paths (kept in the order given)."""
    if isinstance(files, (str, os.PathLike)):
        text = os.fspath(files)
        if any(c in text for c in "*?["):
            if "://" in text:
                import fsspec

                fs, _, _ = fsspec.get_fs_token_paths(text)
                protocol = text.split("://", 1)[0]
                matches = sorted(f"{protocol}://{p}" for p in fs.glob(text))
            else:
                matches = sorted(globlib.glob(text))
            if not matches:
                raise OptionsError("records", f"no file matches {text!r}")
            return matches
        return [text]
    out = [os.fspath(f) for f in files]
    if not out:
        raise OptionsError("records", "no files given")
    return out


def iter_records(files: Sequence[str]) -> Iterator[tuple[str, int, bytes]]:
    """(file, index within the file, record) across files, in order, CRC-checked."""
    for path in files:
        for index, record in enumerate(read_records(path)):
            yield path, index, record


def tile_margin(
    length: int, patch: tuple[int, int], kernel_size: tuple[int, int] | None = None, *, depth: int = 1
) -> tuple[int, int]:
    """The buffer (x, y) on each side that makes a record of ``length`` values per band hold one tile.

    With ``kernel_size`` the answer is ``kernel // 2`` and the length must agree. Without it, the
    patch size itself means no buffer; otherwise the buffer is inferred, taking equal buffers in x
    and y when several splits fit. Raises ValueError when no tile fits or the split is ambiguous.
    """
    pw, ph = patch
    if length % depth:
        raise ValueError(f"{length} values are not a multiple of the depth {depth}")
    per_depth = length // depth
    if kernel_size is not None:
        mx, my = kernel_size[0] // 2, kernel_size[1] // 2
        if (pw + 2 * mx) * (ph + 2 * my) != per_depth:
            raise ValueError(
                f"{per_depth} values per band do not make a {pw + 2 * mx} x {ph + 2 * my} tile "
                f"(patch {pw} x {ph} with kernel {kernel_size[0]} x {kernel_size[1]})"
            )
        return mx, my
    if per_depth == pw * ph:
        return 0, 0
    candidates = []
    mx = 0
    while pw + 2 * mx <= per_depth:
        width = pw + 2 * mx
        if per_depth % width == 0:
            height = per_depth // width
            if height >= ph and (height - ph) % 2 == 0:
                candidates.append((mx, (height - ph) // 2))
        mx += 1
    if len(candidates) == 1:
        return candidates[0]
    symmetric = [c for c in candidates if c[0] == c[1]]
    if len(symmetric) == 1:
        return symmetric[0]
    if not candidates:
        raise ValueError(f"{per_depth} values per band fit neither the {pw} x {ph} patch nor any buffered tile of it")
    options = ", ".join(f"{pw + 2 * x} x {ph + 2 * y}" for x, y in candidates[:6])
    raise ValueError(f"{per_depth} values per band could be several tiles ({options}); give kernel_size")


def read_patches(
    files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    spec: Mixer | Mapping[str, Any] | str | os.PathLike[str],
    *,
    bands: Sequence[str] | None = None,
    kernel_size: tuple[int, int] | None = None,
    batch_size: int | None = None,
) -> Iterator[Any]:
    """Iterate over exported patches as numpy arrays, ready for PyTorch or ``tf.data``.

    Parameters
    ----------
    files
        The export's shards: a path, a glob or a list, in order.
    spec
        The export's mixer (path, dict or :class:`Mixer`): tiles are then (tileH, tileW) per band, or
        (depth, tileH, tileW) for 3-D features, the buffer inferred from the length (or from
        ``kernel_size``). Or a mapping ``{band: shape}`` giving each feature's shape.
    bands
        Features to return, in order (default: all, in record order).
    batch_size
        Yield (batch, bands, H, W) float32 arrays instead of dicts (the last batch may be smaller).

    Examples
    --------
    >>> import numpy as np, tempfile, geotfrecord
    >>> prefix = tempfile.mkdtemp() + "/s"
    >>> r = geotfrecord.export_image(np.ones((2, 64, 64), np.float32), prefix, patch_dimensions=(32, 32))
    >>> patch = next(read_patches(r.files, r.mixer))
    >>> {k: v.shape for k, v in patch.items()}
    {'b1': (32, 32), 'b2': (32, 32)}
    """
    paths = expand_files(files)
    shapes: dict[str, tuple[int, ...]] = {}
    mixer = None
    if isinstance(spec, Mapping) and "projection" not in spec:
        shapes = {str(k): tuple(int(d) for d in v) for k, v in spec.items()}
    else:
        mixer = Mixer.load(spec)  # type: ignore[arg-type]
    batch: list[np.ndarray] = []
    for path, index, record in iter_records(paths):
        decoded = decode_example(record)
        names = list(bands) if bands is not None else list(decoded)
        patch = {}
        for name in names:
            if name not in decoded:
                raise CorruptRecordError(path, index, f"record {index}: no feature {name!r} (has {', '.join(decoded)})")
            value = decoded[name]
            if isinstance(value, list):
                patch[name] = value
                continue
            shape = shapes.get(name) or _tile_shape(value.size, mixer, kernel_size, path, index, name)
            try:
                patch[name] = value.reshape(shape)
            except ValueError:
                raise CorruptRecordError(
                    path, index, f"record {index}: feature {name!r} has {value.size} values, not {shape}"
                ) from None
        if batch_size is None:
            yield patch
            continue
        batch.append(np.stack([np.asarray(patch[n], dtype=np.float32) for n in names]))
        if len(batch) == batch_size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)


def _tile_shape(
    size: int, mixer: Mixer | None, kernel_size: tuple[int, int] | None, path: str, index: int, name: str
) -> tuple[int, ...]:
    if mixer is None:
        raise CorruptRecordError(path, index, f"record {index}: no shape given for feature {name!r}")
    pw, ph = mixer.patch_dimensions
    for depth in (1, *range(2, 1 + size // (pw * ph))):
        if size % depth:
            continue
        try:
            mx, my = tile_margin(size, (pw, ph), kernel_size, depth=depth)
        except ValueError:
            continue
        tile = (ph + 2 * my, pw + 2 * mx)
        return tile if depth == 1 else (depth, *tile)
    raise CorruptRecordError(
        path, index, f"record {index}: feature {name!r} has {size} values, which is no tile of the {pw} x {ph} patch"
    )
