"""Typed text (names, notes, reasons, operators) follows one rule wherever it is kept:
whitespace tidied, control characters and display-reordering controls refused, with
the store left unchanged."""

from __future__ import annotations

import pytest

from sigverify_gui.services import accounts, enrol, verify
from sigverify_gui.services.errors import TextError
from sigverify_gui.services.typed_text import one_line, several_lines
from sigverify_gui.store import audit, records
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, store_contents, write_signatures

ESC, RLO = "\x1b", "\u202e"


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Jane \t Doe\n", "Jane Doe"),
        ("Jose\u0301", "José"),  # composed: one character, as typed on another keyboard
        ("রহিম\u200dউদ্দিন", "রহিম\u200dউদ্দিন"),  # joiners Bengali needs stay
        ("\u200fمحمد", "\u200fمحمد"),  # a right-to-left mark stays
        ("\u061cمحمد", "\u061cمحمد"),  # and an Arabic letter mark
        (None, ""),
        ("\u200e \u3164", ""),  # shows nothing, so it is nothing: "Give a reason"
    ],
)
def test_one_line_tidies_what_was_typed(typed, kept):
    assert one_line(typed, "name", 200) == kept


@pytest.mark.parametrize(
    "bad",
    [
        f"Jane{ESC}[2J",
        "Jane\x00",
        f"Jane {RLO}eoD",
        "\ud800",
        "Jo\u200bhn",  # a zero-width space: "John" to the eye, another name to a search
        "\ufeffJohn",
        "Jo\u00adhn",
    ],
)
def test_control_characters_are_refused_naming_the_field(bad):
    refused = r"control character \(U\+[0-9A-F]{4}\) in the customer's name"
    with pytest.raises(TextError, match=refused):
        one_line(bad, "customer's name", 200)


def test_notes_keep_their_lines_and_a_limit_is_a_limit():
    assert several_lines("\n first\tline \r\n\n second \n", "notes", 100) == "first line\n\nsecond"
    with pytest.raises(TextError, match="reason to 5 characters or fewer"):
        one_line("abcdef", "reason", 5)


@pytest.fixture(scope="module")
def sigs(tmp_path_factory):
    return write_signatures(tmp_path_factory.mktemp("typed-text-sigs"), 2, 6)


def test_enrolment_refuses_a_pasted_escape_in_the_name_and_stores_nothing(store, fake, sigs):
    with pytest.raises(TextError, match="character .U\\+001B. in the customer's name"):
        enrol.enrol_customer(store, fake, "A", sigs[:4], name=f"Jane{ESC}[31m")
    assert store_contents(store)["customers"] == [] and audit.list_rows(store.db) == []
    enrol.enrol_customer(store, fake, "A", sigs[:4], name=" Jane\tDoe ", notes="a\r\nb")
    customer = records.get_customer(store.db, "A")
    assert (customer.name, customer.notes) == ("Jane Doe", "a\nb")


def test_reasons_follow_the_rule(store, fake, sigs):
    enrol.enrol_customer(store, fake, "A", sigs[:4])
    result = verify.verify_signature(store, fake, "A", sigs[5])
    before = store_contents(store)
    with pytest.raises(TextError, match="reason"):
        verify.record_teller_decision(store, result.verification_id, "reject", f"x{RLO}y")
    with pytest.raises(TextError, match="reason"):
        accounts.close_account(store, "A", reason=f"moved{ESC}away")
    assert store_contents(store) == before
    closed = accounts.close_account(store, "A", reason="moved\n away")
    assert '"moved away"' in audit.get_row(store.db, closed.audit_id)["detail"]


def test_cli_refuses_a_control_character_in_operator_or_name(tmp_path, monkeypatch, capsys, sigs):
    from sigverify_gui.services import runtime

    fake = FakeVerifier()
    monkeypatch.setattr(runtime, "load_verifier", lambda weights=None, device="auto": fake)
    main = cli_with(monkeypatch, "enroll")
    db = tmp_path / "store.db"
    for extra in (["--operator", f"ann{ESC}]0;x"], ["--name", f"Jane{ESC}[2J"]):
        code, out, err = run_cli(main, capsys, "enroll", "A", *sigs[:4], "--db", db, *extra)
        assert_user_error(code, err, "control character")
        assert ESC not in err + out  # the terminal is never sent what was refused
    assert not db.exists() or store_contents_at(db)["customers"] == []


def store_contents_at(path):
    from sigverify_gui.store.db import Store

    with Store(path) as store:
        return store_contents(store)


def test_what_the_cli_prints_escapes_control_characters(tmp_path, monkeypatch, capsys):
    """A file's name can hold anything; a message quoting it must not drive the terminal."""
    main = cli_with(monkeypatch, "extract")
    page = tmp_path / f"cheque{ESC}]0;owned{ESC}\\.png"
    page.write_bytes(b"not a picture")
    code, out, err = run_cli(main, capsys, "extract", page, "-o", tmp_path / "sig.png")
    assert_user_error(code, err, "cheque\\x1b]0;owned\\x1b\\.png")
    assert ESC not in err + out


def test_an_import_keeps_an_older_stores_odd_name_visibly(store, fake, sigs, tmp_path):
    from sigverify_gui.services.exchange import export_zip, import_zip
    from sigverify_gui.store.db import Store

    enrol.enrol_customer(store, fake, "A", sigs[:4])
    with store.write() as db:  # as a version before the rule could have stored them
        db.execute("UPDATE customers SET name = ?, notes = ?", [f"Jane\t{ESC}[2J", f"a{RLO}b\n c"])
    export_zip(store, tmp_path / "branch.zip")
    with Store(tmp_path / "other.db") as other:
        import_zip(other, tmp_path / "branch.zip", FakeVerifier())
        customer = records.get_customer(other.db, "A")
    assert (customer.name, customer.notes) == ("Jane \\x1b[2J", "a\\u202eb\nc")
    assert one_line(customer.name, "name", 200) == customer.name  # now within the rule


def test_the_login_name_recorded_as_operator_follows_the_rule(monkeypatch):
    from sigverify_gui.services import typed_text

    monkeypatch.setattr(typed_text.getpass, "getuser", lambda: " ann\t ")
    assert typed_text.login_name() == "ann"
    monkeypatch.setattr(typed_text.getpass, "getuser", lambda: f"ann{ESC}[2J")
    assert typed_text.login_name() == ""  # the environment can say anything


def test_a_file_name_with_a_line_break_prints_on_its_line(tmp_path, monkeypatch, capsys, sigs):
    from sigverify_gui.services import runtime

    fake = FakeVerifier()
    monkeypatch.setattr(runtime, "load_verifier", lambda weights=None, device="auto": fake)
    main = cli_with(monkeypatch, "enroll")
    odd = tmp_path / "q\nFAKE accept.png"
    odd.write_bytes(sigs[0].read_bytes())
    argv = ["enroll", "A", odd, *sigs[1:5], "--db", tmp_path / "s.db"]
    code, out, err = run_cli(main, capsys, *argv)
    assert code == 0, err
    assert "q\\nFAKE accept.png" in out and "\nFAKE" not in out
