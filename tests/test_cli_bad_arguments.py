"""Arguments the shell can pass but the store cannot hold: undecodable bytes, numbers
beyond SQLite's integers, margins beyond any crop, values argparse would take for an
option. One line each, nothing changed."""

from __future__ import annotations

import os

import numpy as np
import pytest

from model.imageio import encode_png
from sigverify_gui.cli import main
from sigverify_gui.store.db import Store
from tests.cli_errors import assert_user_error, files_under, run_cli
from tests.fakes import store_contents

UNDECODABLE = os.fsdecode(b"\xff")  # how Python hands over bytes that are no UTF-8


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "store.db"
    with Store(path):
        pass
    return path


def _contents(path):
    with Store(path) as store:
        return store_contents(store)


@pytest.mark.parametrize(
    "argv",
    [
        ["show", f"C{UNDECODABLE}"],
        ["verify", f"C{UNDECODABLE}", "x.png"],
        ["enroll", "N100", f"sig{UNDECODABLE}.png"],
        ["verify", "C1", "x.png", "--operator", f"op{UNDECODABLE}"],
    ],
)
def test_an_undecodable_argument_is_refused_in_one_line(capsys, db, argv):
    before = _contents(db)
    code, _, err = run_cli(main, capsys, *argv, "--db", db)
    assert_user_error(code, err, "is not valid text", "\\udcff")
    assert _contents(db) == before


@pytest.mark.parametrize(
    "argv",
    [
        ["retire-reference", "--reason", "x", str(2**63)],
        ["audit", "--limit", "99999999999999999999999"],
    ],
)
def test_a_number_beyond_the_stores_integers_is_refused(capsys, db, argv):
    code, _, err = run_cli(main, capsys, *argv, "--db", db)
    assert_user_error(code, err, "from 1 to 9223372036854775807")


@pytest.mark.parametrize("margin", ["99999999", "1001", "-3"])
def test_a_margin_beyond_any_signature_crop_is_refused(tmp_path, capsys, margin):
    page = np.full((300, 500), 230, np.uint8)
    page[100:140, 100:300] = 20
    (tmp_path / "p.png").write_bytes(encode_png(page))
    before = files_under(tmp_path)
    argv = ["extract", tmp_path / "p.png", "-o", tmp_path / "c.png", "--box", "90,90,220,60"]
    code, _, err = run_cli(main, capsys, *argv, f"--margin={margin}")
    assert_user_error(code, err, "from 0 to 1000")
    assert files_under(tmp_path) == before


def test_a_graphics_card_asked_for_where_there_is_none_says_what_works(capsys, db, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code, _, err = run_cli(main, capsys, "thresholds", "--device", "cuda", "--db", db)
    assert_user_error(code, err, "No CUDA graphics card is available")
    assert err.rstrip().endswith("Use --device cpu instead.")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["train", "--lr", "-1e-3", "data"], "argument --lr: must be a number above 0"),
        (["synth", "--seed", "-inf", "out"], "argument --seed: must be a whole number"),
        (["thresholds", "--set", "0.9", "-NaN"], "argument --set: must be a number"),
    ],
)
def test_a_value_with_a_minus_sign_gets_its_options_own_message(capsys, argv, words):
    code, _, err = run_cli(main, capsys, *argv)
    assert_user_error(code, err, words)


def test_no_option_looks_like_a_signed_value():
    """An option such as "-1" would make argparse read every signed value as an option
    again (`sigverify_gui.cli._SIGNED_VALUE`)."""
    from sigverify_gui.cli import _SIGNED_VALUE, build_parser

    parsers = [build_parser(), *build_parser().commands.values()]
    options = {s for p in parsers for a in p._actions for s in a.option_strings}
    assert options and not [o for o in options if _SIGNED_VALUE.match(o)]


@pytest.mark.parametrize(
    ("argv", "help_of"),
    [(["show", "C1", "--bogus"], "sigverify show"), (["--bogus"], "sigverify")],
)
def test_a_stray_argument_points_to_the_help_that_lists_what_is_taken(capsys, db, argv, help_of):
    code, _, err = run_cli(main, capsys, *argv)
    assert_user_error(code, err, "unrecognized arguments: --bogus")
    assert f"(see `{help_of} --help`)" in err


@pytest.mark.parametrize(
    "argv",
    [["quality", ""], ["enroll", "N100", "", "--db"], ["backup", "", "--db"], ["scan", "-o", ""]],
)
def test_an_empty_file_name_is_refused_by_name_not_as_this_folder(capsys, db, argv):
    """As a path, '' would be '.', this folder, and the error would name a '.' never
    typed."""
    before = _contents(db)
    code, _, err = run_cli(main, capsys, *argv, *([db] if argv[-1] == "--db" else []))
    assert_user_error(code, err, "an empty name names no file or folder")
    assert "'.'" not in err and _contents(db) == before


def test_a_file_of_several_pages_given_as_a_signature_says_the_command_lines_way(
    tmp_path, capsys, db
):
    from PIL import Image

    from tests.fakes import render_signatures

    first, second = (Image.fromarray(g) for g in render_signatures(3, 2))
    first.save(tmp_path / "two.tif", save_all=True, append_images=[second])
    before = _contents(db)
    code, _, err = run_cli(main, capsys, "enroll", "N7", tmp_path / "two.tif", "--db", db)
    assert_user_error(code, err, "'two.tif' holds 2 pages")
    assert "sigverify extract FILE --page-number N -o SIG.png` and give SIG.png" in err
    assert "whole cheque" not in err and "sigverify verify" not in err  # not enrolment's
    assert _contents(db) == before


def test_a_refused_file_operation_is_one_line_not_an_internal_error(
    db, tmp_path, capsys, monkeypatch
):
    """A folder the user may not enter (root ignores modes, so the refusal is played):
    the system's words in one line, exit 2, not "unexpected internal error" (70)."""
    from sigverify_gui.cli.commands import export_zip

    def refuse(path):
        raise PermissionError(13, "Permission denied", str(path.parent))

    monkeypatch.setattr(export_zip, "check_target", refuse)
    before = _contents(db)
    code, _, err = run_cli(main, capsys, "export", tmp_path / "hidden" / "x.zip", "--db", db)
    assert_user_error(code, err, "The computer refused a file operation", "Permission denied")
    assert str(tmp_path / "hidden") in err
    assert _contents(db) == before


def test_a_store_failing_after_it_opened_is_one_line_not_an_internal_error(db, capsys, monkeypatch):
    """Damaged (or its drive gone) between the integrity check and a read: said as the
    app's window says it, exit 2."""
    import sqlite3

    from sigverify_gui.store import records

    def malformed(db):
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(records, "list_customers", malformed)
    code, _, err = run_cli(main, capsys, "customers", "--db", db)
    assert_user_error(
        code, err, "The signature store could not be read or written (database disk image"
    )


def test_a_sqlite_error_that_is_a_bug_stays_an_internal_error(db, capsys, monkeypatch, caplog):
    """A constraint or bad SQL is the program's fault, not the store's: logged with its
    traceback, not told to the teller as a damaged store."""
    import sqlite3

    from sigverify_gui import cli
    from sigverify_gui.store import records

    def constraint(db):
        raise sqlite3.IntegrityError("UNIQUE constraint failed: customers.customer_id")

    monkeypatch.setattr(records, "list_customers", constraint)
    code, _, err = run_cli(main, capsys, "customers", "--db", db)
    assert code == cli.INTERNAL_ERROR and err.startswith("error: unexpected internal error")
    assert "Traceback" in caplog.text and "UNIQUE constraint" in caplog.text
