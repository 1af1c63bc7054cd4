"""What an array of pixels given to `Verifier.embed` means (the services' arrays are read
by the same `preprocess.to_gray`), and the arrays refused as no picture: they had been
stretched into a picture of something else and embedded without a word."""

from __future__ import annotations

import numpy as np
import pytest

from model import Verifier
from model.errors import ImageError
from model.preprocess import to_gray
from model.synth import make_writer, render_genuine


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier.load(device="cpu")


@pytest.fixture(scope="module")
def scan() -> np.ndarray:
    """A synthetic signature on paper, 8-bit grey."""
    return render_genuine(make_writer(7), np.random.default_rng(7))


def _with_one(pixels: np.ndarray, value) -> np.ndarray:
    """`pixels` with one paper pixel changed to `value` (the rest still a signature)."""
    changed = pixels.copy()
    changed[0, 0] = value
    return changed


REFUSED = {
    "a NaN": (lambda s: _with_one(s / 255.0, np.nan), "NaN or infinite values"),
    "an infinity": (lambda s: _with_one(s.astype(np.float32), np.inf), "NaN or infinite"),
    "a negative float": (lambda s: _with_one(s / 255.0, -0.01), "negative values (down to -0.01)"),
    "a negative integer": (lambda s: _with_one(s.astype(np.int16), -1), "negative values"),
    "a float above 255": (lambda s: _with_one(s.astype(np.float64), 256.0), "go up to 256"),
    "an integer above 16 bits": (
        lambda s: _with_one(s.astype(np.int32), 65536),
        "go up to 65536, more than 16-bit pixels hold",
    ),
    "true/false": (lambda s: s < 128, "true/false values"),
    "complex": (lambda s: s.astype(np.complex64), "of type complex64, not grey levels"),
    "objects": (lambda s: s.astype(object), "of type object, not grey levels"),
    "four dimensions": (lambda s: s[None, :, :, None], "unexpected shape (1,"),
    "five channels": (lambda s: np.stack([s] * 5, axis=2), "unexpected shape ("),
}


@pytest.mark.parametrize("name", REFUSED)
def test_an_array_no_picture_holds_is_refused_by_embed_in_words(verifier, scan, name):
    make, words = REFUSED[name]
    with pytest.raises(ImageError, match="^The image") as refused:
        verifier.embed([scan, make(scan)])
    assert words in str(refused.value) and str(refused.value).endswith(".")


def test_pixels_embed_takes_are_read_by_their_values(verifier, scan):
    gray = verifier.embed([scan])
    same = [
        scan.astype(np.float32),  # grey levels in floats: as they are, not stretched
        scan / 255.0,  # fractions of white
        scan.astype(np.uint16) * 257,  # 16-bit
        np.repeat(scan[..., None], 3, axis=2),  # RGB
    ]
    assert np.allclose(verifier.embed(same), np.repeat(gray, len(same), axis=0), atol=1e-4)


def test_a_faint_scan_in_float_grey_levels_stays_faint():
    """Stretched to 0-255, paper at 230 and ink at 200 had passed the quality check's
    contrast rule, which is stated in grey levels."""
    faint = np.full((40, 60), 230.0, np.float32)
    faint[15:25, 10:50] = 200.0
    assert np.array_equal(to_gray(faint), faint.astype(np.uint8))


def test_the_bundled_model_scores_a_signature_on_its_printed_line_as_without_it(verifier):
    # End to end with the real model: a genuine signature scanned with the line it was
    # written on (paper past the line's ends) scored 0.001-0.07, a reject, before pp5.
    import cv2

    from model.pages import signature_darkness
    from tests.fakes import render_signatures

    signatures = render_signatures(12, 7)
    references = verifier.embed(signatures[:5])
    darkness, _ = signature_darkness(signatures[6])
    h, w = darkness.shape
    capture = np.full((h + 300, w + 400), 245, np.float32)
    capture[120 : 120 + h, 200 : 200 + w] *= 1.0 - darkness
    alone = capture.astype(np.uint8)
    on_line = alone.copy()
    cv2.line(on_line, (200, 125 + h), (200 + w, 125 + h), 40, 3)
    scores = [verifier.score(references, e) for e in verifier.embed([alone, on_line])]
    assert verifier.decide(scores[1]) == verifier.decide(scores[0]) == "accept"
    assert abs(scores[1] - scores[0]) < 0.02
