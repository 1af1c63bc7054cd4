"""`sigverify verify CUSTOMER_ID --page PAGE`: find the signature on a cheque, then verify."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sigverify_gui.cli as cli
from model.imageio import encode_png
from model.pages import make_page
from sigverify_gui.services import runtime
from tests.fakes import FakeVerifier, render_signatures, write_signatures


@pytest.fixture
def store_cli(monkeypatch, tmp_path):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["enroll", "verify", "audit"])
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier()
    )
    db = str(tmp_path / "store.db")
    refs = write_signatures(tmp_path / "refs", 4, 5)
    assert cli.main(["enroll", "1001", *map(str, refs), "--db", db]) == 0
    return db


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / (aw * ah + bw * bh - inter)


def test_verify_page_finds_the_signature_and_reports_its_box(store_cli, tmp_path, capsys):
    signature = render_signatures(4, 1, first=7)[0]
    page = make_page(signature, np.random.default_rng(5), kind="cheque")
    page_path = tmp_path / "cheque.png"
    page_path.write_bytes(encode_png(page.image))
    capsys.readouterr()
    code = cli.main(["verify", "1001", "--page", str(page_path), "--db", store_cli, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    data = json.loads(out)
    assert data["customer_id"] == "1001" and data["decision"] in ("accept", "refer", "reject")
    assert _iou(data["box"], page.signature_box) >= 0.7
    assert 0.0 <= data["zone_confidence"] <= 1.0


def test_verify_needs_exactly_one_of_image_and_page(store_cli, tmp_path, capsys):
    capsys.readouterr()
    assert cli.main(["verify", "1001", "--db", store_cli]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--page" in err and "Traceback" not in err
    both = ["verify", "1001", str(tmp_path / "a.png"), "--page", str(tmp_path / "b.png")]
    assert cli.main([*both, "--db", store_cli]) == 2


def test_verify_page_with_a_blank_page_is_a_clear_error(store_cli, tmp_path, capsys):
    blank = tmp_path / "blank.png"
    blank.write_bytes(encode_png(np.full((850, 1800), 240, np.uint8)))
    capsys.readouterr()
    assert cli.main(["verify", "1001", "--page", str(blank), "--db", store_cli]) == 2
    assert capsys.readouterr().err.startswith("error:")
