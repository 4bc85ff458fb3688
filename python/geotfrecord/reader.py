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
import math
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


def _margin_candidates(per_depth: int, patch: tuple[int, int]) -> list[tuple[int, int]]:
    """Every buffer (x, y) that makes a tile of exactly ``per_depth`` pixels around the patch."""
    pw, ph = patch
    candidates = []
    mx = 0
    while pw + 2 * mx <= per_depth:
        width = pw + 2 * mx
        if per_depth % width == 0:
            height = per_depth // width
            if height >= ph and (height - ph) % 2 == 0:
                candidates.append((mx, (height - ph) // 2))
        mx += 1
    return candidates


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
    candidates = _margin_candidates(per_depth, (pw, ph))
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
    kernel_size
        The export's kernelSize. Without it the buffer is inferred from the record lengths (the same
        for every band and record), which cannot always tell a buffered tile from a stack of tiles:
        give it for non-square kernels and for exports whose only feature is 3-D (collapseBands, or a
        single array band).
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
    tile: tuple[int, int] | None = None  # (tileH, tileW): one buffer for the whole export
    for path, index, record in iter_records(paths):
        try:
            decoded = decode_example(record)
        except ValueError as err:
            raise CorruptRecordError(path, index, f"record {index}: {err}") from None
        names = list(bands) if bands is not None else list(decoded)
        if mixer is not None and tile is None:
            tile = _export_tile(decoded, mixer, kernel_size, path, index)
        patch = {}
        for name in names:
            if name not in decoded:
                raise CorruptRecordError(path, index, f"record {index}: no feature {name!r} (has {', '.join(decoded)})")
            value = decoded[name]
            if isinstance(value, list):
                patch[name] = value
                continue
            shape = shapes.get(name) or _tile_shape(value.size, tile, path, index, name)
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


def _export_tile(
    decoded: Mapping[str, Any], mixer: Mixer, kernel_size: tuple[int, int] | None, path: str, index: int
) -> tuple[int, int]:
    """(tileH, tileW) of the export, told once from the first record.

    Every band of an export has the same buffer, and an array band (tensorDepths, collapseBands)
    holds a whole number of tiles; so the tile is read from the greatest common divisor of the numeric
    features' lengths, which is the tile itself as soon as one band is scalar. That length is taken as
    one tile when it can be (one buffer fits, or one equal buffer in x and y). A record of a single
    feature (collapseBands, or one array band) may instead be a stack of tiles: one with an equal
    buffer in x and y (a square kernel), else the only stack that fits. When nothing decides (a
    non-square kernel, say), the error asks for ``kernel_size``.
    """
    pw, ph = mixer.patch_dimensions
    if kernel_size is not None:
        return ph + 2 * (kernel_size[1] // 2), pw + 2 * (kernel_size[0] // 2)
    sizes = [v.size for v in decoded.values() if not isinstance(v, list) and v.size]
    if not sizes:
        return ph, pw
    common = math.gcd(*sizes)
    try:
        mx, my = tile_margin(common, (pw, ph))
        return ph + 2 * my, pw + 2 * mx
    except ValueError:
        pass
    one_tile = _margin_candidates(common, (pw, ph))
    stacks = [
        margin
        for depth in range(2, 1 + common // (pw * ph))
        if common % depth == 0
        for margin in _margin_candidates(common // depth, (pw, ph))
        if len(sizes) == 1 or not one_tile
    ]
    square = [m for m in stacks if m[0] == m[1]]
    for fits in (square, stacks):
        if len(fits) == 1:
            mx, my = fits[0]
            return ph + 2 * my, pw + 2 * mx
    readings = len(stacks) + len(one_tile)
    raise CorruptRecordError(
        path,
        index,
        f"record {index}: feature lengths {', '.join(map(str, sorted(set(sizes))))} are "
        + ("no tile" if not readings else "several possible tiles")
        + f" of the {pw} x {ph} patch; give kernel_size",
    )


def _tile_shape(size: int, tile: tuple[int, int] | None, path: str, index: int, name: str) -> tuple[int, ...]:
    if tile is None:
        raise CorruptRecordError(path, index, f"record {index}: no shape given for feature {name!r}")
    th, tw = tile
    if size == 0 or size % (th * tw):
        raise CorruptRecordError(
            path, index, f"record {index}: feature {name!r} has {size} values, not a whole number of {th} x {tw} tiles"
        )
    depth = size // (th * tw)
    return (th, tw) if depth == 1 else (depth, th, tw)
