"""The way back: predictions on exported patches + the mixer → one georeferenced GeoTIFF.

As Earth Engine's upload does: the Examples are taken in order as one sequence across any number
of files, the buffer around each patch (if the records are tile-sized) is discarded, and the
patches are joined edge to edge on the grid the mixer describes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._files import AtomicOutput, is_local
from .errors import CorruptRecordError, OptionsError
from .examples import decode_example
from .mixer import Mixer
from .reader import expand_files, iter_records, tile_margin

__all__ = ["PatchAssembler", "UploadResult", "upload_image"]


@dataclass(frozen=True)
class UploadResult:
    """What :func:`upload_image` wrote."""

    path: str
    width: int
    height: int
    bands: tuple[str, ...]
    patches: int
    margin: tuple[int, int]


class PatchAssembler:
    """Writes patches, in the mixer's row-major order, into a georeferenced GeoTIFF, one row of patches
    in memory at a time; the file appears under its name only when :meth:`close` succeeds.

    Used by :func:`upload_image` and by :func:`geotfrecord.predictions_to_geotiff`.
    """

    def __init__(
        self,
        out: str | os.PathLike[str],
        mixer: Mixer,
        bands: Sequence[str],
        *,
        dtype: Any = np.float32,
        nodata: float | None = None,
        cloud_optimized: bool = True,
        block_size: int = 256,
    ) -> None:
        import rasterio
        from rasterio.transform import Affine

        self.out = os.fspath(out)
        self.mixer = mixer
        self.bands = tuple(bands)
        self.dtype = np.dtype(dtype)
        self.cloud_optimized = cloud_optimized
        self.count = 0
        self._row = np.zeros((len(self.bands), mixer.patch_dimensions[1], mixer.width), dtype=self.dtype)
        # Work beside the output (same filesystem, so the final rename is atomic); remote outputs are
        # assembled in the system's temporary folder and uploaded whole.
        folder = None
        if is_local(self.out):
            folder = os.path.dirname(os.path.abspath(self.out))
            os.makedirs(folder, exist_ok=True)
        self._workdir = tempfile.mkdtemp(prefix=".geotfrecord-", dir=folder)
        self._tmp = os.path.join(self._workdir, "assembled.tif")
        profile = {
            "driver": "GTiff",
            "width": mixer.width,
            "height": mixer.height,
            "count": len(self.bands),
            "dtype": self.dtype.name,
            "crs": mixer.crs,
            "transform": Affine(*mixer.affine),
            "nodata": nodata,
            "BIGTIFF": "IF_SAFER",
            # GDAL deflates the tiles on every core; a COG is made from an uncompressed intermediate
            # (a temporary file, written and read once), so its pixels are compressed only once.
            "NUM_THREADS": "ALL_CPUS",
            **({} if cloud_optimized else {"compress": "deflate"}),
            # Tiled whatever the size (a small image is one tile), as documented: never strips.
            "tiled": True,
            "blockxsize": block_size,
            "blockysize": block_size,
        }
        with warnings.catch_warnings():
            # A mixer of an ungeoreferenced array has the identity transform; that is not a mistake here.
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            self._ds = rasterio.open(self._tmp, "w", **profile)
        for i, name in enumerate(self.bands, start=1):
            self._ds.set_band_description(i, name)

    def add(self, patch: np.ndarray) -> None:
        """Place the next patch, shaped (bands, patchH, patchW)."""
        from rasterio.windows import Window

        m = self.mixer
        if self.count >= m.total_patches:
            raise OptionsError("predictions", f"more patches than the mixer's totalPatches ({m.total_patches})")
        pw, ph = m.patch_dimensions
        col = self.count % m.patches_per_row
        self._row[:, :, col * pw : (col + 1) * pw] = patch
        self.count += 1
        if col == m.patches_per_row - 1:
            row = self.count // m.patches_per_row - 1
            self._ds.write(self._row, window=Window(0, row * ph, m.width, ph))

    def close(self) -> str:
        """Check the patch count, finish the file (as a COG if asked) and move it into place."""
        import rasterio.shutil

        if self.count != self.mixer.total_patches:
            raise OptionsError(
                "predictions",
                f"the mixer expects {self.mixer.total_patches} patches, got {self.count}",
            )
        self._ds.close()
        source = self._tmp
        if self.cloud_optimized:
            source = os.path.join(self._workdir, "cog.tif")
            rasterio.shutil.copy(
                self._tmp, source, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=256, BIGTIFF="IF_SAFER",
                NUM_THREADS="ALL_CPUS",
            )  # fmt: skip
        if is_local(self.out):
            os.replace(source, self.out)
        else:
            with AtomicOutput(self.out) as dst, open(source, "rb") as src:
                shutil.copyfileobj(src, dst.file, 16 << 20)
        shutil.rmtree(self._workdir, ignore_errors=True)
        return self.out

    def abort(self) -> None:
        """Discard everything; nothing appears under the output name."""
        if not self._ds.closed:
            self._ds.close()
        shutil.rmtree(self._workdir, ignore_errors=True)


def upload_image(
    records: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    mixer: Mixer | dict[str, Any] | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    bands: Sequence[str] | None = None,
    kernel_size: tuple[int, int] | None = None,
    dtype: Any = None,
    cloud_optimized: bool = True,
    nodata: float | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> UploadResult:
    """Turn predictions made on exported patches into a georeferenced GeoTIFF, as Earth Engine's
    ``earthengine upload image predictions.tfrecord mixer.json`` does.

    Parameters
    ----------
    records
        Prediction TFRecord files: a path, a glob (sorted) or a list in order; plain or gzip (detected
        from the content). Their Examples, taken in order across files, are the patches in the
        export's order; the number of files need not match the export's.
    mixer
        The export's mixer: a path, dict or :class:`Mixer` (Earth Engine's own mixers too).
    out
        Output GeoTIFF path or fsspec URL.
    bands
        Features to write as bands, in order (default: every feature of the first Example).
    kernel_size
        The export's kernelSize, when the buffer cannot be told from the record length (records of
        exactly the patch size are taken as already cropped either way).
    dtype
        Pixel type of the output (default float32).
    cloud_optimized
        Write a Cloud Optimized GeoTIFF (default) rather than a plain tiled one.
    nodata
        Nodata value to record in the file.

    Examples
    --------
    >>> import numpy as np, tempfile, geotfrecord
    >>> d = tempfile.mkdtemp()
    >>> image = np.arange(2 * 64 * 96, dtype=np.float32).reshape(2, 64, 96)
    >>> r = geotfrecord.export_image(image, d + "/s", patch_dimensions=(32, 32), kernel_size=(8, 8))
    >>> up = upload_image(r.files, r.mixer, d + "/back.tif")
    >>> (up.width, up.height, up.margin)
    (96, 64, (4, 4))
    """
    m = Mixer.load(mixer)
    paths = expand_files(records)
    pw, ph = m.patch_dimensions
    assembler: PatchAssembler | None = None
    margin: tuple[int, int] | None = None
    names: list[str] = []
    last: tuple[str, int] | None = None
    try:
        for path, index, record in iter_records(paths):
            last = (path, index)
            try:
                decoded = decode_example(record)
            except ValueError as err:
                raise CorruptRecordError(path, index, f"record {index}: {err}") from None
            if assembler is None:
                names = list(bands) if bands is not None else list(decoded)
                if not names:
                    raise CorruptRecordError(path, index, f"record {index}: the Example has no features")
                out_dtype = np.dtype(dtype) if dtype is not None else np.dtype(np.float32)
                assembler = PatchAssembler(
                    out, m, names, dtype=out_dtype, nodata=nodata, cloud_optimized=cloud_optimized
                )
            if assembler.count >= m.total_patches:
                raise CorruptRecordError(
                    path, index, f"record {index}: more Examples than the mixer's totalPatches ({m.total_patches})"
                )
            planes = []
            for name in names:
                value = decoded.get(name)
                if value is None:
                    raise CorruptRecordError(
                        path, index, f"record {index}: no feature {name!r} (features: {', '.join(decoded)})"
                    )
                if isinstance(value, list):
                    raise CorruptRecordError(path, index, f"record {index}: feature {name!r} holds bytes, not numbers")
                if margin is None:
                    try:
                        # Patch-sized records are already cropped (as the official notebooks write
                        # them), whatever kernel the export had; otherwise the buffer is the kernel's.
                        margin = (0, 0) if value.size == pw * ph else tile_margin(value.size, (pw, ph), kernel_size)
                    except ValueError as err:
                        raise CorruptRecordError(path, index, f"record {index}: feature {name!r}: {err}") from None
                mx, my = margin
                if value.size != (pw + 2 * mx) * (ph + 2 * my):
                    raise CorruptRecordError(
                        path,
                        index,
                        f"record {index}: feature {name!r} has {value.size} values, "
                        f"expected {(pw + 2 * mx) * (ph + 2 * my)} ({pw + 2 * mx} x {ph + 2 * my})",
                    )
                planes.append(value.reshape(ph + 2 * my, pw + 2 * mx)[my : my + ph, mx : mx + pw])
            assembler.add(np.stack(planes))
            if progress is not None:
                progress(assembler.count, m.total_patches)
        if assembler is None:
            raise OptionsError("records", f"no Examples in {', '.join(paths)}; the mixer expects {m.total_patches}")
        if assembler.count != m.total_patches and last is not None:
            raise CorruptRecordError(
                last[0],
                last[1],
                f"record {last[1]} is the last Example: the files hold {assembler.count} Examples, "
                f"the mixer expects {m.total_patches} (totalPatches)",
            )
        written = assembler.close()
    except BaseException:
        if assembler is not None:
            assembler.abort()
        raise
    return UploadResult(written, m.width, m.height, tuple(names), m.total_patches, margin or (0, 0))
