"""A capture's stored PNG always decodes to exactly the pixels that were verified."""

import io

import numpy as np
import pytest
from PIL import Image

from model.imageio import load_image
from sigverify_gui.services.captures import load_input


def _png(img: Image.Image, **params) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG", **params)
    return out.getvalue()


def _variants() -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    grey = (rng.random((40, 70)) * 255).astype(np.uint8)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the loader turns it upright
    return {
        "grey": _png(Image.fromarray(grey)),
        "grey-transparent": _png(Image.fromarray(grey), transparency=0),
        "grey-rotated": _png(Image.fromarray(grey), exif=exif),
        "rgb": _png(Image.fromarray(np.dstack([grey, grey // 2, grey]))),
        "grey-16bit": _png(Image.fromarray(grey.astype(np.uint16) * 257)),
    }


@pytest.mark.parametrize("kind", list(_variants()))
def test_stored_png_reproduces_the_loaded_pixels(kind, tmp_path):
    data = _variants()[kind]
    path = tmp_path / f"{kind}.png"
    path.write_bytes(data)
    loaded = load_input(path)
    assert np.array_equal(load_image(loaded.png).gray, loaded.gray)
    # the customer's own file is kept byte for byte only where it is that image
    assert (loaded.png == data) == (kind == "grey")


def test_signature_from_page_isolates_the_signature_for_the_quality_check():
    from model.pages import make_page
    from model.quality import check_quality
    from sigverify_gui.services.captures import signature_from_page
    from tests.fakes import render_signatures

    signature = render_signatures(9, 1, first=7)[0]
    passed = 0
    for seed in range(6):
        page = make_page(signature, np.random.default_rng(seed), kind="cheque")
        capture, zone = signature_from_page(page.image, dpi=300)
        x, y, w, h = zone.box
        # the zone's pixels, surrounded by plain paper: no printed neighbours come along
        margin = (capture.gray.shape[0] - h) // 2
        assert np.array_equal(capture.gray[margin : margin + h, margin : margin + w],
                              page.image[y : y + h, x : x + w])  # fmt: skip
        assert capture.gray[:margin].std() == 0 and capture.dpi == 300
        passed += check_quality(capture.gray, dpi=300).ok
    assert passed >= 5
