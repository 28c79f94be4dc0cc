"""Shared photos for the engine tests: skimage's astronaut (a person) and coffee (no person)."""

import io

import pytest
from PIL import Image
from skimage import data

from generation.engine import load_photo


def encode(array, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, fmt, **options)
    return buffer.getvalue()


@pytest.fixture(scope="session")
def astronaut():
    return load_photo(encode(data.astronaut()))


@pytest.fixture(scope="session")
def coffee():
    return load_photo(encode(data.coffee()))
