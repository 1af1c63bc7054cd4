"""`sigverify restore --replace-damaged`: a checked backup put in the place of a store
that no longer opens, the damaged files moved aside and kept, or nothing changed."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from sigverify_gui.services import enrol, exchange, restore_damaged
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreDamagedError
from tests.cli_errors import assert_user_error, cli_with, run_cli
from tests.fakes import FakeVerifier, render_signatures, store_contents
from tests.test_restore import _break_the_trail, _leave_a_hot_journal
from tests.test_store_opening import _another_programs_database, _newer_store, _old_empty_file

SIDE_FILES = ("-wal", "-shm")
WHEN = datetime(2025, 6, 11, 14, 25, 1)
ASIDE = "branch.damaged-20250611-142501.db"


def _leave_a_wal(path: Path) -> None:
    """A last write still in the -wal, as a program killed after it leaves the store."""
    code = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA wal_autocheckpoint=0')\n"
        "conn.execute('UPDATE change_counter SET generation = generation + 1')\n"
        "os._exit(0)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True)


def _cut_short(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"\x9c\x17 not a page of anything \x00" * (path.stat().st_size // 28))


def _scribbled_page(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[3 * 4096 : 3 * 4096 + 64] = b"\xff" * 64  # a b-tree page's header
    path.write_bytes(bytes(data))


def _empty(path: Path) -> None:
    for suffix in SIDE_FILES:  # SQLite deletes a -wal beside an empty file itself
        Path(f"{path}{suffix}").unlink()
    _old_empty_file(path)


DAMAGE = {_cut_short: "", _garbage: "not a database", _scribbled_page: "", _empty: "empty"}


def _as_found(path: Path, damage=_cut_short) -> None:
    """Damaged, and as IT finds it: the app failed to open it. (SQLite, closing that
    connection, may fold the -wal into the damaged file: what is kept is what is there
    when the store is replaced.)"""
    damage(path)
    with pytest.raises(StoreDamagedError):
        Store(path, create=False)


@pytest.fixture
def branch(tmp_path):
    """The store's path: backed up after customer A, then given customer B, and left
    with its -wal and -shm beside it. The app is not running."""
    path = tmp_path / "branch.db"
    with Store(path) as store:
        enrol.enrol_customer(store, FakeVerifier(), "A", render_signatures(2, 4))
        exchange.backup_store(store, tmp_path / "monday.db", operator="it")
        enrol.enrol_customer(store, FakeVerifier(), "B", render_signatures(3, 4))
    _leave_a_wal(path)
    return path


@pytest.fixture
def main(monkeypatch):
    class Now(datetime):
        @classmethod
        def now(cls, tz=None):
            return WHEN

    monkeypatch.setattr(restore_damaged, "datetime", Now)
    return cli_with(monkeypatch, "restore")


def _files(path: Path) -> dict[str, bytes]:
    """Every file in the store's folder but the backups, by name, with its bytes."""
    return {
        p.name: p.read_bytes() if p.is_file() else b"<folder>"
        for p in path.parent.iterdir()
        if not p.name.startswith(("monday", "bad"))
    }


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.strip("_"))
def test_a_damaged_store_is_replaced_by_the_backup_and_kept_aside(
    branch, main, capsys, damage, tmp_path
):
    _as_found(branch, damage)
    os.chmod(branch, 0o644)
    damaged = _files(branch)
    code, _, err = run_cli(main, capsys, "restore", tmp_path / "monday.db", "--db", branch)
    assert_user_error(code, err, "does not open", DAMAGE[damage], "close every copy")
    assert "--replace-damaged" in err and _files(branch) == damaged

    code, out, err = run_cli(
        main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
    )
    assert code == 0, err
    aside = tmp_path / ASIDE
    assert f"moved to {aside}" in out and "holds 1 customer(s)" in out
    # the damaged files, every byte, under the new name; nothing else left behind
    kept = {name.replace("branch.db", ASIDE): data for name, data in damaged.items()}
    assert damage is not _cut_short or f"{ASIDE}-wal" in kept  # side files go along
    assert {name: data for name, data in _files(branch).items() if name != "branch.db"} == kept
    if os.name == "posix":
        assert stat.S_IMODE(branch.stat().st_mode) == 0o600
    with Store(branch, create=False) as store:
        assert [c.customer_id for c in records.list_customers(store.db)] == ["A"]
        trail = audit.verify_chain(store.db)
        row = audit.list_rows(store.db)[0]  # the newest
    assert trail.ok and f"New head: {trail.head}" in out
    detail = json.loads(row["detail"])
    assert (row["kind"], detail["damaged_store_moved_to"]) == ("restore", str(aside))
    assert DAMAGE[damage] in detail["damage"] and detail["replaced_head"] is None
    monday = hashlib.sha256((tmp_path / "monday.db").read_bytes()).hexdigest()
    assert detail["sha256"] == monday and detail["customers"] == 1


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_another_programs_database, "database of another program"),
        (_newer_store, "newer version of sigverify"),
    ],
    ids=["another program's", "newer version's"],
)
def test_only_a_damaged_store_is_replaced(branch, main, capsys, make, words, tmp_path):
    # another program's database at a mistyped --db must not be moved away; a newer
    # version's store wants that version, not an older backup
    for name in ("branch.db", *(f"branch.db{s}" for s in SIDE_FILES)):
        (tmp_path / name).unlink()
    make(branch)
    before = _files(branch)
    code, _, err = run_cli(
        main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
    )
    assert_user_error(code, err, words)
    assert _files(branch) == before


def test_a_store_that_opens_is_restored_into_instead(branch, main, capsys, tmp_path):
    with Store(branch) as store:
        before = store_contents(store)
    code, _, err = run_cli(
        main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
    )
    assert_user_error(code, err, "opens, so it was not replaced", "without --replace-damaged")
    with Store(branch) as store:
        assert store_contents(store) == before
    assert not list(tmp_path.glob("*.damaged-*"))


@pytest.mark.parametrize(
    ("backup", "words"),
    [
        ("broken-trail", "is broken at row 1"),
        ("missing", "There is no backup file"),
        ("garbage", "not a backup of a signature store or is damaged"),
        ("rows-in-its-wal", "wait in bad.db-wal beside it, so it is a signature store in use"),
        ("hot-journal", "caught part-way through a change (bad.db-journal beside it"),
    ],
)
def test_a_backup_that_is_not_sound_moves_nothing(branch, main, capsys, tmp_path, backup, words):
    _as_found(branch)
    bad = tmp_path / "bad.db"
    if backup in ("broken-trail", "rows-in-its-wal", "hot-journal"):
        bad.write_bytes((tmp_path / "monday.db").read_bytes())
    if backup == "broken-trail":
        _break_the_trail(bad)
    elif backup == "rows-in-its-wal":  # a store left by a program that stopped
        Store(bad).close()
        _leave_a_wal(bad)
    elif backup == "hot-journal":  # a change cut short: the file alone may be inconsistent
        _leave_a_hot_journal(bad)
    elif backup == "garbage":
        bad.write_bytes(b"minutes of the branch meeting\n" * 100)
    before = _files(branch)
    code, _, err = run_cli(main, capsys, "restore", bad, "--db", branch, "--replace-damaged")
    assert_user_error(code, err, words)
    assert _files(branch) == before  # no copy, no folder left, nothing moved


def test_a_name_taken_beside_the_store_moves_nothing(branch, main, capsys, tmp_path):
    _as_found(branch)
    (tmp_path / f"{ASIDE}-shm").write_bytes(b"left by a run cut short")
    before = _files(branch)
    code, _, err = run_cli(
        main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
    )
    assert_user_error(code, err, f"{ASIDE}-shm already exists")
    assert _files(branch) == before


@pytest.mark.skipif(os.name != "posix", reason="the -shm lock is POSIX's; Windows refuses the move")
def test_a_store_another_program_has_open_is_not_moved(branch, main, capsys, tmp_path):
    code = (
        "import sqlite3, sys, time\n"
        "conn = sqlite3.connect(sys.argv[1])\n"
        "conn.execute('SELECT count(*) FROM customers').fetchone()\n"
        "print('open', flush=True)\n"
        "time.sleep(60)\n"
    )
    app = subprocess.Popen([sys.executable, "-c", code, branch], stdout=subprocess.PIPE, text=True)
    try:
        assert app.stdout.readline() == "open\n"
        _cut_short(branch)  # damaged under the running app
        before = _files(branch)
        code, _, err = run_cli(
            main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
        )
        assert_user_error(code, err, "Another program still has", "close every copy")
        assert _files(branch) == before
    finally:
        app.kill()
        app.wait()


@pytest.mark.parametrize("hard_links", [True, False])
def test_a_run_that_dies_at_any_step_leaves_a_store_in_place(
    branch, main, capsys, monkeypatch, tmp_path, hard_links
):
    """After every rename, link and sync (where a killed process would stop), the
    store's name leads to the damaged file or to the restored one, synced before it
    moved, and never to the restored one beside the damaged store's -wal."""
    _as_found(branch)
    damaged = _files(branch)
    steps, real = [], {name: getattr(os, name) for name in ("rename", "replace", "link", "fsync")}

    def after(name):
        def step(*args):
            if name == "link" and not hard_links:
                raise OSError(1, "Operation not permitted")
            real[name](*args)
            if name == "fsync":
                steps.append(("fsync", os.fstat(args[0]).st_ino))
            else:
                steps.append((name, _files(branch)))

        return step

    for name in real:
        monkeypatch.setattr(os, name, after(name))
    code, _, err = run_cli(
        main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
    )
    monkeypatch.undo()
    assert code == 0, err
    restored = branch.read_bytes()
    moves = [files for name, files in steps if name != "fsync"]
    assert len(moves) == 4  # -wal, -shm, the store (linked or renamed), the copy
    first_move = next(i for i, (name, _) in enumerate(steps) if name != "fsync")
    assert ("fsync", branch.stat().st_ino) in steps[:first_move]
    for files in moves:
        at_name = files.get("branch.db")
        if at_name == restored:
            assert "branch.db-wal" not in files
        elif at_name is None:  # two renames without a link: both kept meanwhile
            assert not hard_links and files[ASIDE] == damaged["branch.db"]
        else:
            assert at_name == damaged["branch.db"]


def test_a_move_refused_half_way_puts_everything_back(branch, main, capsys, monkeypatch, tmp_path):
    # Windows refuses to rename a file another program has open: here the last step
    _as_found(branch)
    before = _files(branch)
    real_replace = os.replace

    def in_use(src, dst):
        if Path(dst) == branch:
            raise PermissionError(13, "The process cannot access the file", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", in_use)
    code, _, err = run_cli(
        main, capsys, "restore", tmp_path / "monday.db", "--db", branch, "--replace-damaged"
    )
    assert_user_error(code, err, "could not be replaced", "left as it was", "close every copy")
    assert _files(branch) == before
