"""`sigverify extract`: the signature zone of a whole page, or a box the user gives."""

import json

import numpy as np

from model.imageio import encode_png, load_image
from model.pages import make_page
from sigverify_gui.cli import main
from tests.fakes import render_signatures


def _iou(a, b) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


def test_extract_finds_the_signature_on_a_cheque(tmp_path, capsys):
    signature = render_signatures(11, 1)[0]
    page = make_page(signature, np.random.default_rng(2), kind="cheque")
    (tmp_path / "cheque.png").write_bytes(encode_png(page.image))
    out = tmp_path / "sig.png"
    assert main(["extract", str(tmp_path / "cheque.png"), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert _iou(data["box"], page.signature_box) >= 0.7 and 0 <= data["confidence"] <= 1
    crop = load_image(out).gray
    assert crop.shape[0] >= data["box"][3] and crop.shape[1] >= data["box"][2]


def test_extract_crops_a_given_box_and_refuses_a_bad_one(tmp_path, capsys):
    page = np.full((300, 500), 230, np.uint8)
    (tmp_path / "p.png").write_bytes(encode_png(page))
    out = tmp_path / "c.png"
    argv = ["extract", str(tmp_path / "p.png"), "-o", str(out), "--margin", "0"]
    assert main([*argv, "--box", "10,20,100,50", "--json"]) == 0
    assert load_image(out).gray.shape == (50, 100)
    assert json.loads(capsys.readouterr().out)["confidence"] is None
    for bad in ("1,2,3", "a,b,c,d", "400,200,200,200", "0,0,0,10"):
        assert main([*argv, "--box", bad]) == 2
        assert capsys.readouterr().err.startswith("error:")


def test_extract_reports_a_blank_page(tmp_path, capsys):
    (tmp_path / "blank.png").write_bytes(encode_png(np.full((850, 1800), 240, np.uint8)))
    assert main(["extract", str(tmp_path / "blank.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error:")
