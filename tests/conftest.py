"""Shared fixtures. TensorFlow is the reference reader, imported lazily and once."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


@pytest.fixture(scope="session")
def tf():
    """The TensorFlow module, or a skip where it is not installed (it is in the test extra)."""
    return pytest.importorskip("tensorflow")
