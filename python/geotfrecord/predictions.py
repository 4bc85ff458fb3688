"""Model outputs → Earth Engine-ready prediction TFRecords, or straight to a GeoTIFF.

The step between the model and the upload in Earth Engine's deep-learning tutorials — looping over
pixels, building ``tf.train.Int64List`` by hand, counting patches — as one call, without TensorFlow.

Examples
--------
>>> import numpy as np, tempfile
>>> d = tempfile.mkdtemp()
>>> classes = np.random.default_rng(0).integers(0, 5, size=(6, 32, 32, 1))   # NHWC, as Keras emits
>>> files = write_predictions(classes, d + "/pred", bands=["class"], layout="NHWC")
>>> import geotfrecord
>>> geotfrecord.decode_example(next(geotfrecord.read_records(files[0])))["class"].dtype
dtype('int64')
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from . import _core
from .errors import OptionsError
from .examples import KIND_FLOAT, KIND_INT64
from .mixer import Mixer
from .naming import image_shard_name
from .options import DEFAULT_MAX_FILE_SIZE
from .records import ShardWriter, default_threads
from .upload import PatchAssembler

__all__ = ["predictions_to_geotiff", "write_predictions"]

LAYOUTS = ("NCHW", "NHWC")


def _batches(predictions: Any) -> Iterator[np.ndarray]:
    """One array, anything with ``__array__`` (CPU tensors), or an iterable of either, as arrays."""
    if isinstance(predictions, np.ndarray) or hasattr(predictions, "__array__"):
        yield np.asarray(predictions)
        return
    if isinstance(predictions, Iterable):
        for batch in predictions:
            yield np.asarray(batch)
        return
    raise OptionsError("predictions", f"expected an array, a tensor or an iterable of batches, got {type(predictions)}")


def _nchw(batch: np.ndarray, layout: str, bands: int) -> np.ndarray:
    if batch.ndim == 3 and bands == 1:  # (N, H, W): a single band without its axis
        return batch[:, None]
    if batch.ndim != 4:
        raise OptionsError("predictions", f"a batch must be 4-D ({layout}), got shape {batch.shape}")
    out = batch if layout == "NCHW" else batch.transpose(0, 3, 1, 2)
    if out.shape[1] != bands:
        raise OptionsError("bands", f"{bands} band names for {out.shape[1]} channels ({layout} shape {batch.shape})")
    return out


class _Cropper:
    """Crops tile-sized outputs to the patch, deciding the buffer once from the first batch."""

    def __init__(self, mixer: Mixer | None, kernel_size: tuple[int, int] | None) -> None:
        self.mixer = mixer
        self.kernel_size = kernel_size
        self.margin: tuple[int, int] | None = None

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        h, w = batch.shape[2:]
        if self.margin is None:
            if self.kernel_size is not None:
                self.margin = (self.kernel_size[0] // 2, self.kernel_size[1] // 2)
            elif self.mixer is not None:
                # The outputs' own height and width say the buffer; their product alone may not.
                pw, ph = self.mixer.patch_dimensions
                if w < pw or h < ph or (w - pw) % 2 or (h - ph) % 2:
                    raise OptionsError(
                        "predictions",
                        f"outputs are {h} x {w} (H x W): neither the mixer's {ph} x {pw} patches "
                        "nor tiles buffered evenly around them",
                    )
                self.margin = ((w - pw) // 2, (h - ph) // 2)
            else:
                self.margin = (0, 0)
        mx, my = self.margin
        if self.mixer is not None:
            pw, ph = self.mixer.patch_dimensions
            if (w, h) != (pw + 2 * mx, ph + 2 * my):
                raise OptionsError(
                    "predictions",
                    f"outputs are {h} x {w} (H x W); the mixer's {pw} x {ph} patches with a buffer of {mx}, {my} "
                    f"need {ph + 2 * my} x {pw + 2 * mx}",
                )
        if h <= 2 * my or w <= 2 * mx:
            raise OptionsError("kernel_size", f"a buffer of {mx}, {my} leaves nothing of {h} x {w} outputs")
        return batch[:, :, my : h - my, mx : w - mx]


def _kind(dtype: np.dtype) -> int:
    if dtype.kind in "iub":
        return KIND_INT64
    if dtype.kind == "f":
        return KIND_FLOAT
    raise OptionsError("predictions", f"cannot write predictions of type {dtype}")


def write_predictions(
    predictions: Any,
    prefix: str | os.PathLike[str],
    *,
    bands: Sequence[str],
    mixer: Mixer | dict[str, Any] | str | os.PathLike[str] | None = None,
    layout: str = "NCHW",
    kernel_size: tuple[int, int] | None = None,
    compressed: bool = False,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    threads: int | None = None,
) -> list[str]:
    """Write model outputs as prediction TFRecords that Earth Engine (or :func:`upload_image`) uploads.

    Parameters
    ----------
    predictions
        (patches, bands, H, W) — or the ``layout`` named, e.g. NHWC as Keras emits — as one array, a
        CPU tensor (anything with ``__array__``) or an iterable of such batches, in export order.
    prefix
        Files are named as the export names them: ``<prefix>-00000.tfrecord`` ….
    bands
        One feature name per channel.
    mixer
        The export's mixer: the patch count is checked against ``totalPatches`` and tile-sized outputs
        are cropped to the patch.
    kernel_size
        The export's kernelSize, to crop tile-sized outputs without a mixer.

    Integer outputs are written as int64 lists (as the tutorials upload class maps), floating ones as
    float lists. Returns the files written; nothing is left behind on error.
    """
    if layout not in LAYOUTS:
        raise OptionsError("layout", f"must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    names = [str(b) for b in ([bands] if isinstance(bands, str) else bands)]
    m = Mixer.load(mixer) if mixer is not None else None
    crop = _Cropper(m, kernel_size)
    prefix = os.fspath(prefix)
    shards = ShardWriter(
        lambda i: image_shard_name(prefix, i, compressed=compressed),
        compressed=compressed,
        max_file_size=max_file_size,
        threads=threads,
    )
    count = 0
    try:
        for batch in _batches(predictions):
            patches = crop(_nchw(batch, layout, len(names)))
            n, _, ph, pw = patches.shape
            kind = _kind(patches.dtype)
            dtype = np.int64 if kind == KIND_INT64 else np.float32
            if m is not None and count + n > m.total_patches:
                raise OptionsError(
                    "predictions", f"more patches than the mixer's totalPatches ({m.total_patches}): {count + n} so far"
                )
            # Each band as a strip one patch high with the patches side by side: the core's tile encoder.
            strip = [
                (name, kind, np.ascontiguousarray(patches[:, c].transpose(1, 0, 2), dtype=dtype).reshape(1, ph, n * pw))
                for c, name in enumerate(names)
            ]
            framed, sizes = _core.encode_tile_examples(
                strip, pw, [i * pw for i in range(n)], threads or default_threads()
            )
            shards.append(framed, sizes)
            count += n
        if m is not None and count != m.total_patches:
            raise OptionsError(
                "predictions", f"the mixer expects {m.total_patches} patches (totalPatches), got {count}"
            )
        return shards.close()
    except BaseException:
        shards.abort()
        raise


def predictions_to_geotiff(
    predictions: Any,
    mixer: Mixer | dict[str, Any] | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    bands: Sequence[str],
    layout: str = "NCHW",
    kernel_size: tuple[int, int] | None = None,
    dtype: Any = None,
    cloud_optimized: bool = True,
    nodata: float | None = None,
) -> str:
    """Model outputs straight to a georeferenced GeoTIFF (a COG by default), without record files.

    Takes the same ``predictions`` as :func:`write_predictions`; batches are placed as they arrive,
    so memory holds one row of patches. The result equals ``upload_image`` of ``write_predictions``.
    """
    if layout not in LAYOUTS:
        raise OptionsError("layout", f"must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    names = [str(b) for b in ([bands] if isinstance(bands, str) else bands)]
    m = Mixer.load(mixer)
    crop = _Cropper(m, kernel_size)
    assembler = PatchAssembler(out, m, names, dtype=dtype or np.float32, nodata=nodata, cloud_optimized=cloud_optimized)
    try:
        for batch in _batches(predictions):
            for patch in crop(_nchw(batch, layout, len(names))):
                assembler.add(patch)
        return assembler.close()
    except BaseException:
        assembler.abort()
        raise
