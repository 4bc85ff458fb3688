"""A picture of an export: the image thumbnail with the patch grid, the kernel buffer, the border
strips that no patch covers, and the tiles ``maskedThreshold`` drops — rather than numbers to read.

Examples
--------
>>> import numpy as np, tempfile
>>> png = tempfile.mkdtemp() + "/grid.png"
>>> render_preview(np.random.rand(1, 300, 400), png, patch_dimensions=(64, 64), kernel_size=(16, 16))
'...grid.png'
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .mixer import Mixer
from .options import TFRecordOptions
from .sources import open_source

__all__ = ["render_preview"]

THUMBNAIL = 1024  # longest side of the thumbnail, in pixels


def _thumbnail(source: Any, rows: int, cols: int, step: int) -> np.ndarray:
    """A grey thumbnail of the first band, read strip by strip with decimation (bounded memory)."""
    out = np.zeros((rows, cols), dtype=np.float32)
    chunk = max(step, (64 << 20) // max(1, source.width * 8) // step * step)
    for r0 in range(0, source.height, chunk):
        r1 = min(source.height, r0 + chunk)
        window = source.read(r0, r1, 0, source.width, [0])[0]
        values = np.where(window.mask, np.nan, window.values[0].astype(np.float32))
        part = values[::step, ::step]
        out[r0 // step : r0 // step + part.shape[0], : part.shape[1]] = part[:, :cols]
    finite = out[np.isfinite(out)]
    if finite.size:
        lo, hi = np.percentile(finite, [2, 98])
        out = np.clip((out - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
    return out


def _masked_fractions(source: Any, options: TFRecordOptions, per_row: int, rows: int) -> np.ndarray:
    (pw, ph), (mx, my) = options.patch_dimensions, options.margin
    tw = options.tile_dimensions[0]
    fractions = np.zeros((rows, per_row))
    for r in range(rows):
        windows = source.read(r * ph - my, (r + 1) * ph + my, -mx, per_row * pw + mx)
        masked = np.zeros(windows[0].mask.shape, dtype=bool)
        for w in windows:
            masked |= w.mask
        for c in range(per_row):
            fractions[r, c] = masked[:, c * pw : c * pw + tw].mean()
    return fractions


def render_preview(
    image: Any,
    png: str | os.PathLike[str],
    *,
    patch_dimensions: tuple[int, int] | None = None,
    kernel_size: tuple[int, int] = (1, 1),
    masked_threshold: float = 1.0,
    format_options: Any = None,
    size: int = THUMBNAIL,
) -> str:
    """Draw an export's layout to a PNG and return its path.

    ``image`` is anything :func:`~geotfrecord.export_image` takes (then the options say how it is
    cut), or a mixer (path, dict, :class:`~geotfrecord.Mixer`), which shows the grid alone.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    mixer = None
    if isinstance(image, (Mixer, dict)) or (isinstance(image, (str, os.PathLike)) and str(image).endswith(".json")):
        mixer = Mixer.load(image)
        options = TFRecordOptions(patch_dimensions=mixer.patch_dimensions, kernel_size=kernel_size)
        width, height, per_row, rows = mixer.width, mixer.height, mixer.patches_per_row, mixer.patch_rows
        source = None
    else:
        if isinstance(format_options, TFRecordOptions):
            options = format_options
        elif format_options is not None:
            options = TFRecordOptions.from_any(format_options)
        else:
            options = TFRecordOptions(
                patch_dimensions=patch_dimensions, kernel_size=kernel_size, masked_threshold=masked_threshold
            )
        source = open_source(image)
        width, height = source.width, source.height
        per_row, rows = width // options.patch_dimensions[0], height // options.patch_dimensions[1]
    (pw, ph), (mx, my) = options.patch_dimensions, options.margin
    step = max(1, int(np.ceil(max(width, height) / size)))
    fig, ax = plt.subplots(figsize=(10, 10 * height / max(width, 1) + 0.8), dpi=100)
    try:
        if source is not None:
            thumb = _thumbnail(source, -(-height // step), -(-width // step), step)
            ax.imshow(thumb, cmap="gray", extent=(0, width, height, 0), interpolation="nearest")
        else:
            ax.add_patch(Rectangle((0, 0), width, height, facecolor="#dddddd", edgecolor="none"))
        legend = [Patch(edgecolor="#1f77b4", facecolor="none", label=f"patch {pw} x {ph}")]
        for c in range(per_row + 1):
            ax.plot([c * pw, c * pw], [0, rows * ph], color="#1f77b4", lw=0.6)
        for r in range(rows + 1):
            ax.plot([0, per_row * pw], [r * ph, r * ph], color="#1f77b4", lw=0.6)
        if mx or my:
            # One tile's buffer, drawn around an inner patch where there is one so that it is seen whole.
            x0, y0 = min(1, max(per_row - 1, 0)) * pw, min(1, max(rows - 1, 0)) * ph
            ax.add_patch(
                Rectangle(
                    (x0 - mx, y0 - my), pw + 2 * mx, ph + 2 * my, fill=False, edgecolor="#ff7f0e", lw=1.5, ls="--"
                )
            )
            legend.append(Patch(edgecolor="#ff7f0e", facecolor="none", ls="--", label=f"tile with buffer {mx}, {my}"))
        if per_row * pw < width or rows * ph < height:
            strip = {"facecolor": "#d62728", "alpha": 0.35, "edgecolor": "none"}
            ax.add_patch(Rectangle((per_row * pw, 0), width - per_row * pw, height, **strip))
            ax.add_patch(Rectangle((0, rows * ph), per_row * pw, height - rows * ph, **strip))
            legend.append(Patch(facecolor="#d62728", alpha=0.35, label="dropped border (no whole patch)"))
        dropped = 0
        if source is not None and options.masked_threshold < 1.0 and rows and per_row:
            fractions = _masked_fractions(source, options, per_row, rows)
            for r, c in zip(*np.nonzero(fractions > options.masked_threshold), strict=True):
                ax.add_patch(Rectangle((c * pw, r * ph), pw, ph, facecolor="#9467bd", alpha=0.5, edgecolor="none"))
                dropped += 1
            legend.append(
                Patch(
                    facecolor="#9467bd", alpha=0.5, label=f"dropped: masked > {options.masked_threshold:g} ({dropped})"
                )
            )
        ax.set_xlim(-mx, width + mx)
        ax.set_ylim(height + my, -my)
        ax.set_aspect("equal")
        ax.set_title(f"{width} x {height} px: {per_row} x {rows} = {per_row * rows} patches, {dropped} dropped")
        ax.legend(handles=legend, loc="upper center", bbox_to_anchor=(0.5, -0.04), ncol=2, fontsize=9, frameon=False)
        fig.tight_layout()
        fig.savefig(os.fspath(png))
    finally:
        plt.close(fig)
        if source is not None and source is not image:
            source.close()
    return os.fspath(png)
