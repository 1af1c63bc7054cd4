"""`sigverify extract`: the signature zone of a whole page, or a box the user gives."""

import json

import numpy as np
import pytest

from model.imageio import encode_png, load_image
from model.pages import make_page
from sigverify_gui.cli import main
from tests.cli_errors import assert_refused_option, assert_user_error, files_under, run_cli
from tests.fakes import box_iou, render_signatures


def test_extract_finds_the_signature_on_a_cheque(tmp_path, capsys):
    signature = render_signatures(11, 1)[0]
    page = make_page(signature, np.random.default_rng(2), kind="cheque")
    (tmp_path / "cheque.png").write_bytes(encode_png(page.image))
    out = tmp_path / "sig.png"
    assert main(["extract", str(tmp_path / "cheque.png"), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert box_iou(data["box"], page.signature_box) >= 0.7 and 0 <= data["confidence"] <= 1
    assert data["usable"] is True and data["quality_problems"] == []
    assert data["confident"] is (data["confidence"] >= 0.85)
    crop = load_image(out).gray
    assert crop.shape[0] >= data["box"][3] and crop.shape[1] >= data["box"][2]


def test_extract_turns_the_crop_of_a_sideways_page_upright(tmp_path, capsys):
    from model.zone_orientation import turn

    page = make_page(render_signatures(11, 1)[0], np.random.default_rng(2), kind="cheque")
    (tmp_path / "sideways.png").write_bytes(encode_png(turn(page.image, 1)))
    out = tmp_path / "sig.png"
    assert main(["extract", str(tmp_path / "sideways.png"), "-o", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["quarter_turns"] == 3
    crop = load_image(out).gray
    assert crop.shape[1] > crop.shape[0]  # a signature stands wider than tall again
    argv = ["extract", str(tmp_path / "sideways.png"), "-o", str(out)]
    assert main(argv) == 0  # the words verify --page uses too
    assert "the page was turned a quarter turn anticlockwise to read it" in capsys.readouterr().out


def test_extract_crops_a_given_box_and_refuses_a_bad_one(tmp_path, capsys):
    page = np.full((300, 500), 230, np.uint8)
    page[:, 115:] = 0  # print beside the box: never brought in, the margin is paper
    (tmp_path / "p.png").write_bytes(encode_png(page))
    out = tmp_path / "c.png"
    argv = ["extract", str(tmp_path / "p.png"), "-o", str(out), "--margin", "0"]
    assert main([*argv, "--box", "10,20,100,50", "--json"]) == 0
    assert load_image(out).gray.shape == (50, 100)
    data = json.loads(capsys.readouterr().out)
    assert data["confidence"] is None and data["quarter_turns"] == 0
    assert main([*argv[:-1], "20", "--box", "10,20,80,50"]) == 0
    cut = load_image(out).gray
    assert cut.shape == (90, 120) and (cut == 230).all()
    for bad in ("1,2,3", "a,b,c,d", "400,200,200,200", "0,0,0,10"):
        assert main([*argv, "--box", bad]) == 2
        assert capsys.readouterr().err.startswith("error:")
    # a box starting off the page is the box's fault, not "expected one argument"
    assert main([*argv, "--box", "-5,20,100,50"]) == 2
    assert "The box -5,20,100,50 does not lie within the page" in capsys.readouterr().err


def test_extract_says_when_its_cut_would_not_pass_as_a_signature(tmp_path, capsys):
    noise = np.random.default_rng(0).integers(0, 256, (200, 600), dtype=np.uint8)
    (tmp_path / "noise.png").write_bytes(encode_png(noise))
    argv = ["extract", str(tmp_path / "noise.png"), "-o", str(tmp_path / "cut.png")]
    assert main(argv) == 0  # the cut is written as asked...
    out = capsys.readouterr().out
    assert "\nNot usable as it stands (verify would refuse it): The image seems" in out
    assert main([*argv[:-1], str(tmp_path / "cut2.png"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["usable"] is False and data["quality_problems"] == ["cluttered"]


def test_extract_says_when_it_is_unsure_of_its_box(tmp_path, capsys):
    # A page with no signature: the best box is print (a logo, the bank's name), which
    # can pass as a signature's cut; it was reported as "found" and nothing more.
    from model.pages import make_unsigned_page

    page = make_unsigned_page(np.random.default_rng(19))
    (tmp_path / "unsigned.png").write_bytes(encode_png(page))
    argv = ["extract", str(tmp_path / "unsigned.png"), "-o", str(tmp_path / "cut.png")]
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["confidence"] < 0.85 and data["confident"] is False
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "\nUnsure: the search is only " in out and "look at the cut, or give --box." in out


def test_extract_reports_a_blank_page(tmp_path, capsys):
    (tmp_path / "blank.png").write_bytes(encode_png(np.full((850, 1800), 240, np.uint8)))
    assert main(["extract", str(tmp_path / "blank.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert capsys.readouterr().err.startswith("error:")


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("sig.jpg", "must be a .png file"),
        ("sig", "must be a .png file"),
        ("no-such-folder/sig.png", "the folder does not exist"),
        ("p.png", "this command reads it too"),  # the page itself: the scan is evidence
        ("sub/../p.png", "this command reads it as '"),
    ],
)
def test_extract_refuses_a_bad_target_before_reading_the_page(tmp_path, capsys, target, words):
    page = encode_png(np.full((300, 500), 230, np.uint8))
    (tmp_path / "p.png").write_bytes(page)
    (tmp_path / "sub").mkdir()
    before = files_under(tmp_path)
    code, _, err = run_cli(main, capsys, "extract", tmp_path / "p.png", "-o", tmp_path / target)
    assert_user_error(code, err, words)
    assert files_under(tmp_path) == before and (tmp_path / "p.png").read_bytes() == page


@pytest.mark.parametrize(("option", "value"), [("--margin", "-1"), ("--page-number", "0")])
def test_extract_refuses_a_bad_number(tmp_path, capsys, option, value):
    argv = ["extract", tmp_path / "p.png", "-o", tmp_path / "c.png", option, value]
    code, _, err = run_cli(main, capsys, *argv)
    assert_refused_option(code, err, option, value)
    assert files_under(tmp_path) == set()
