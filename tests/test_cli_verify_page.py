"""`sigverify verify CUSTOMER_ID --page PAGE`: find the signature on a cheque, then verify."""

from __future__ import annotations

import json

import numpy as np
import pytest

import sigverify_gui.cli as cli
from model.imageio import encode_png
from model.pages import make_page, make_unsigned_page
from sigverify_gui.services import runtime
from tests.fakes import FakeVerifier, box_iou, render_signatures, write_signatures


def enrolled_cli_store(monkeypatch, tmp_path, commands: list[str]) -> str:
    """A store with customer 1001 enrolled through the CLI, which then offers only
    `commands`, on the fake verifier."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", commands)
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier()
    )
    db = str(tmp_path / "store.db")
    refs = write_signatures(tmp_path / "refs", 4, 5)
    assert cli.main(["enroll", "1001", *map(str, refs), "--db", db]) == 0
    return db


@pytest.fixture
def store_cli(monkeypatch, tmp_path):
    return enrolled_cli_store(monkeypatch, tmp_path, ["enroll", "verify", "audit"])


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
    assert box_iou(data["box"], page.signature_box) >= 0.7
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


# --- turned pages, unsure zones, page numbers, boxes, coarse pages ----------------------
def _audit_rows(db: str, capsys) -> list[dict]:
    capsys.readouterr()
    assert cli.main(["audit", "--json", "--db", db]) == 0
    return json.loads(capsys.readouterr().out)["rows"]


def _verify_json(db: str, capsys, *argv: str) -> tuple[int, dict | None, str]:
    """Exit status, JSON and stderr of `verify 1001 ARGV --json`."""
    capsys.readouterr()
    code = cli.main(["verify", "1001", *argv, "--db", db, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 else None), err


@pytest.fixture(scope="module")
def cheque():
    signature = render_signatures(4, 1, first=7)[0]
    return make_page(signature, np.random.default_rng(5), kind="cheque")


def test_verify_page_reads_a_sideways_cheque_the_right_way_up(store_cli, tmp_path, capsys, cheque):
    from model.zone_orientation import turn, turn_box

    upright, sideways = tmp_path / "upright.png", tmp_path / "rot90.png"
    upright.write_bytes(encode_png(cheque.image))
    sideways.write_bytes(encode_png(turn(cheque.image, 1)))  # fed turned to the right
    _, straight, _ = _verify_json(store_cli, capsys, "--page", str(upright))
    code, turned, err = _verify_json(store_cli, capsys, "--page", str(sideways))
    assert code == 0, err
    assert turned["quarter_turns"] == 3 and turned["zone_confidence"] >= 0.85
    truth = turn_box(cheque.signature_box, 1, cheque.image.shape)  # on the file as stored
    assert box_iou(turned["box"], truth) >= 0.7
    # the signature compared is the upright one: the same score as from the upright page
    assert abs(turned["score"] - straight["score"]) < 0.05
    assert turned["decision"] == straight["decision"]
    capsys.readouterr()
    assert cli.main(["verify", "1001", "--page", str(sideways), "--db", store_cli]) == 0
    assert "turned a quarter turn anticlockwise to read it" in capsys.readouterr().out


def test_verify_page_refuses_an_unsure_zone_and_records_nothing(
    store_cli, tmp_path, capsys, monkeypatch, cheque
):
    import model.zone

    real = model.zone.find_signature

    def unsure(page, dpi=None):
        found = real(page, dpi)
        x, y, w, h = found.box
        return model.zone.ZoneResult((x, y, w // 2, h), 0.53, ())  # half the signature

    monkeypatch.setattr(model.zone, "find_signature", unsure)
    path = tmp_path / "cheque.png"
    path.write_bytes(encode_png(cheque.image))
    before = _audit_rows(store_cli, capsys)
    argv = ["verify", "1001", "--page", str(path), "--db", store_cli, "--record-failure"]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and err.count("\n") == 1
    assert "could not be found with confidence (0.53)" in err and "--box" in err
    assert _audit_rows(store_cli, capsys) == before


def test_verify_page_number_takes_a_later_page_of_a_tiff(store_cli, tmp_path, capsys, cheque):
    from PIL import Image

    unsigned = make_unsigned_page(np.random.default_rng(8), kind="cheque")
    path = tmp_path / "two-pages.tif"
    first, second = Image.fromarray(unsigned), Image.fromarray(cheque.image)
    first.save(path, save_all=True, append_images=[second], dpi=(300, 300))
    code, data, err = _verify_json(store_cli, capsys, "--page", str(path), "--page-number", "2")
    assert code == 0, err
    assert box_iou(data["box"], cheque.signature_box) >= 0.7
    capsys.readouterr()
    argv = ["verify", "1001", "--page", str(path), "--db", store_cli]
    assert cli.main([*argv, "--page-number", "2"]) == 0
    assert "found on page 2 of 2" in capsys.readouterr().out
    code, _, err = _verify_json(store_cli, capsys, "--page", str(path))  # page 1: unsigned
    assert code == 2 and err.startswith("error:")
    code, _, err = _verify_json(store_cli, capsys, "--page", str(path), "--page-number", "3")
    assert code == 2 and "has 2 page(s); there is no page 3" in err
    for bad in ("0", "two"):  # pages count from 1, as extract's do
        code, _, err = _verify_json(store_cli, capsys, "--page", str(path), "--page-number", bad)
        assert code == 2 and "--page-number" in err and err.count("\n") == 1


def test_an_empty_first_page_of_several_says_so_and_how_to_choose(
    store_cli, tmp_path, capsys, cheque, monkeypatch
):
    from PIL import Image

    monkeypatch.setattr(cli, "COMMAND_MODULES", ["verify", "extract"])

    path = tmp_path / "scan.tif"
    first = Image.fromarray(np.full(cheque.image.shape, 240, np.uint8))
    first.save(path, save_all=True, append_images=[Image.fromarray(cheque.image)])
    capsys.readouterr()
    for argv in (
        ["verify", "1001", "--page", str(path), "--db", store_cli],
        ["extract", str(path), "-o", str(tmp_path / "cut.png")],
    ):
        assert cli.main(argv) == 2
        assert capsys.readouterr().err == (
            "error: No ink was found on scan.tif, page 1 (of 2 pages). "
            "Choose the signature's page with --page-number.\n"
        )
    assert (
        cli.main(["extract", str(path), "-o", str(tmp_path / "cut.png"), "--page-number", "2"]) == 0
    )


def test_verify_page_with_a_box_uses_it_without_searching(store_cli, tmp_path, capsys, cheque):
    path = tmp_path / "cheque.png"
    path.write_bytes(encode_png(cheque.image))
    x, y, w, h = cheque.signature_box
    box = f"{x - 5},{y - 5},{w + 10},{h + 10}"
    code, data, err = _verify_json(store_cli, capsys, "--page", str(path), "--box", box)
    assert code == 0, err
    assert data["box"] == [x - 5, y - 5, w + 10, h + 10] and data["zone_confidence"] is None
    for bad in ("1,2,3", "0,0,99999,10"):
        code, _, err = _verify_json(store_cli, capsys, "--page", str(path), "--box", bad)
        assert code == 2 and err.startswith("error:") and "Traceback" not in err


def test_box_and_page_number_need_a_page(store_cli, tmp_path, capsys):
    image = write_signatures(tmp_path, 4, 1, first=8)[0]
    for extra in (["--box", "1,2,3,4"], ["--page-number", "2"]):
        code, _, err = _verify_json(store_cli, capsys, str(image), *extra)
        assert code == 2 and "go with --page" in err


def test_verify_page_says_a_tiny_page_is_too_coarse(store_cli, tmp_path, capsys, cheque):
    import cv2

    tiny = tmp_path / "tiny.png"
    tiny.write_bytes(encode_png(cv2.resize(cheque.image, (180, 85), interpolation=cv2.INTER_AREA)))
    before = _audit_rows(store_cli, capsys)
    code, _, err = _verify_json(store_cli, capsys, "--page", str(tiny))
    assert code == 2
    assert err.startswith("error:") and "180×85 pixels" in err and "150 dpi" in err
    assert _audit_rows(store_cli, capsys) == before


@pytest.mark.parametrize(
    "page, error",
    [
        (b"", "EmptyFileError"),
        (encode_png(np.full((850, 1800), 240, np.uint8)), "BlankImageError"),  # white
        (encode_png(make_unsigned_page(np.random.default_rng(3), kind="cheque")), None),
    ],
    ids=["empty file", "blank page", "no signature"],
)
def test_an_unusable_page_is_recorded_only_with_record_failure(
    store_cli, tmp_path, capsys, page, error
):
    """As an unusable IMAGE is: --record-failure promises the trail the failed attempt."""
    from sigverify_gui.store.db import open_store
    from tests.fakes import store_contents

    path = tmp_path / "page.png"
    path.write_bytes(page)
    with open_store(store_cli) as store:
        before = store_contents(store)
    code, _, err = _verify_json(store_cli, capsys, "--page", str(path))
    assert code == 2 and err.startswith("error:") and err.count("\n") == 1
    with open_store(store_cli) as store:
        assert store_contents(store) == before  # without the flag: nothing written
    code, _, recorded_err = _verify_json(store_cli, capsys, "--page", str(path), "--record-failure")
    assert code == 2 and recorded_err == err
    row = _audit_rows(store_cli, capsys)[0]
    assert row["kind"] == "verification_failed" and row["customer_id"] == "1001"
    detail = json.loads(row["detail"])
    assert detail["message"] in err and detail["error"] == (error or "BlankImageError")
    with open_store(store_cli) as store:
        (failed,) = store_contents(store)["audit_log"][len(before["audit_log"]) :]
    assert (failed["image_png"] is None) == (page == b"")  # the page, when it was read


def test_a_signature_file_of_several_pages_says_to_give_it_as_a_page(store_cli, tmp_path, capsys):
    """`verify` has its own way to choose the page; no GUI wording on the command line."""
    from PIL import Image

    first, second = (Image.fromarray(g) for g in render_signatures(4, 2, first=8))
    first.save(tmp_path / "two.tif", save_all=True, append_images=[second])
    code, _, err = _verify_json(store_cli, capsys, str(tmp_path / "two.tif"))
    assert code == 2 and err.count("\n") == 1
    assert "'two.tif' holds 2 pages, and a signature is one image of one page." in err
    assert "`sigverify verify CUSTOMER --page FILE --page-number N`" in err
    assert "whole cheque" not in err


# --- a page given as a signature ------------------------------------------------------
def _captioned_page(signature: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A signature card scanned whole: the signature, a printed caption in its rows and
    paper all around; and the signature's place."""
    import cv2

    from model.pages import signature_darkness

    darkness, _ = signature_darkness(signature)
    page = np.full((1200, 2400), 245, np.float32)
    h, w = darkness.shape
    x, y = 1300, 500
    page[y : y + h, x : x + w] *= 1.0 - darkness
    page = page.astype(np.uint8)
    caption_at = (150, y + h // 2)
    cv2.putText(page, "Authorised signature", caption_at, cv2.FONT_HERSHEY_SIMPLEX, 1.2, 30, 3)
    return page, (x, y, w, h)


def test_a_page_given_as_the_signature_is_refused_with_the_way_to_search_it(
    store_cli, tmp_path, capsys
):
    page, where = _captioned_page(render_signatures(4, 1, first=7)[0])
    path = tmp_path / "card.png"
    path.write_bytes(encode_png(page))
    before = _audit_rows(store_cli, capsys)
    code, _, err = _verify_json(store_cli, capsys, str(path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert "'card.png' is not good enough to use: The image seems to hold more" in err
    assert err.rstrip().endswith("give it with --page to find the signature on it.")
    assert _audit_rows(store_cli, capsys) == before
    code, found, err = _verify_json(store_cli, capsys, "--page", str(path))
    assert code == 0, err
    assert box_iou(found["box"], where) >= 0.7  # the signature, not its caption


def test_enrolling_a_page_says_to_cut_the_signature_out(store_cli, tmp_path, capsys):
    page, _ = _captioned_page(render_signatures(9, 1)[0])
    path = tmp_path / "card.png"
    path.write_bytes(encode_png(page))
    capsys.readouterr()
    assert cli.main(["enroll", "2002", str(path), "--db", store_cli]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("error: Cannot enrol: 'card.png' is not good enough")
        and "Traceback" not in err
    )
    assert "cut the signature out with `sigverify extract PAGE -o SIG.png`" in err


def test_the_bundled_model_scores_a_found_signature_as_its_own_capture(
    monkeypatch, tmp_path, capsys
):
    # End to end with the real model: the caption refused, the signature found on the
    # page scores as the signature scanned alone would.
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["enroll", "verify"])
    db = str(tmp_path / "store.db")
    refs = write_signatures(tmp_path / "refs", 4, 5)
    assert cli.main(["enroll", "1001", *map(str, refs), "--db", db]) == 0
    signature = render_signatures(4, 1, first=7)[0]
    alone, page = tmp_path / "alone.png", tmp_path / "card.png"
    alone.write_bytes(encode_png(signature))
    page.write_bytes(encode_png(_captioned_page(signature)[0]))
    code, own, err = _verify_json(db, capsys, str(alone))
    assert code == 0, err
    assert _verify_json(db, capsys, str(page))[0] == 2
    code, found, err = _verify_json(db, capsys, "--page", str(page))
    assert code == 0, err
    assert own["decision"] == "accept" and found["decision"] == "accept"
    assert abs(found["score"] - own["score"]) < 0.05
