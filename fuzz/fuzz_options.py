"""atheris target: every JSON the package parses from users — the mixer, both spellings of the
TFRecord options, the GeoTIFF options and the REST ImageFileExportOptions — and the Example decoder
as Python sees it. Bad input must raise ValueError (OptionsError is one), or OSError for text taken as a path;
anything else is a bug.

Run: python fuzz/fuzz_options.py fuzz/corpus/options -max_total_time=60
"""

from __future__ import annotations

import contextlib
import json
import sys

import atheris

with atheris.instrument_imports():
    from geotfrecord import ImageFileExportOptions, Mixer, TFRecordOptions, decode_example
    from geotfrecord.geotiff import GeoTiffOptions


def _json(fdp: atheris.FuzzedDataProvider) -> tuple[str, object]:
    text = fdp.ConsumeUnicodeNoSurrogates(fdp.remaining_bytes())
    try:
        return text, json.loads(text)
    except ValueError:
        return text, text  # not JSON: still fed as a string, which must be refused cleanly


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    which = fdp.ConsumeIntInRange(0, 5)
    if which == 5:
        with contextlib.suppress(ValueError):
            decode_example(fdp.ConsumeBytes(fdp.remaining_bytes()))
        return
    text, value = _json(fdp)
    parsers = [
        lambda v: Mixer.load(v) if isinstance(v, dict) else Mixer.from_json(text),
        TFRecordOptions.from_any,
        GeoTiffOptions.from_any,
        lambda v: ImageFileExportOptions.from_rest(v if isinstance(v, dict) else json.dumps(v), destination="/tmp/x"),
        TFRecordOptions.from_rest,
    ]
    # OSError: text that is not JSON is taken for a path, which may not exist.
    with contextlib.suppress(ValueError, OSError):
        parsers[which](value)


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
