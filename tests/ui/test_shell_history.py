"""History: the audit trail filtered by customer, date and decision; CSV; integrity."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta

import pytest

from sigverify_gui.services.exchange_validate import AUDIT_KINDS
from sigverify_gui.store import audit
from sigverify_gui.ui.history_query import (
    EVENT_NAMES,
    HistoryFilter,
    event_name,
    filter_rows,
    local_time,
    outcome,
    with_local_days,
    write_csv,
)
from sigverify_gui.ui.history_table import COLUMNS, cells
from sigverify_gui.ui.history_view import HistoryView
from sigverify_gui.ui.qt import Qt


def _utc(days_ago: int) -> str:
    # Noon local time, so the local date is the same in every time zone.
    local = datetime.now().astimezone().replace(hour=12, minute=0, second=0, microsecond=0)
    return (local - timedelta(days=days_ago)).astimezone().isoformat()


def _fill(store):
    """Five rows: two customers, three decisions, one override, three dates."""
    with store.write() as db:
        audit.append(db, "enrolment", "ann", customer_id="C1", at=_utc(10))
        v1 = audit.append(db, "verification", "ann", customer_id="C1", score=0.91,
                          system_decision="accept", at=_utc(5))  # fmt: skip
        audit.append(db, "teller_decision", "ann", customer_id="C1", verification_id=v1,
                     system_decision="accept", teller_decision="accept", at=_utc(5))  # fmt: skip
        v2 = audit.append(db, "verification", "bob", customer_id="C2", score=0.5,
                          system_decision="refer", at=_utc(1))  # fmt: skip
        audit.append(db, "teller_decision", "bob", customer_id="C2", verification_id=v2,
                     system_decision="refer", teller_decision="reject",
                     override_reason="=HYPERLINK(\"x\")", at=_utc(1))  # fmt: skip


@pytest.fixture
def rows(store):
    _fill(store)
    return audit.list_rows(store.db)


def _ids(rows):
    return sorted(r["id"] for r in rows)


def test_filters_by_customer_date_and_decision(rows):
    assert _ids(filter_rows(rows, HistoryFilter())) == [1, 2, 3, 4, 5]
    assert _ids(filter_rows(rows, HistoryFilter(customer="c2"))) == [4, 5]
    today = date.today()
    recent = HistoryFilter(date_from=today - timedelta(days=6))
    assert _ids(filter_rows(rows, recent)) == [2, 3, 4, 5]
    window = HistoryFilter(date_from=today - timedelta(days=6), date_to=today - timedelta(days=2))
    assert _ids(filter_rows(rows, window)) == [2, 3]
    assert _ids(filter_rows(rows, HistoryFilter(decision="accept"))) == [2, 3]
    assert _ids(filter_rows(rows, HistoryFilter(decision="reject"))) == [5]
    assert _ids(filter_rows(rows, HistoryFilter(decision="refer"))) == [4, 5]
    assert _ids(filter_rows(rows, HistoryFilter(decision="override"))) == [5]
    assert _ids(filter_rows(rows, HistoryFilter(decision="undecided"))) == []  # both decided
    without_5 = [r for r in rows if r["id"] != 5]  # verification 4 left undecided
    assert _ids(filter_rows(without_5, HistoryFilter(decision="undecided"))) == [4]
    assert _ids(filter_rows(rows, HistoryFilter(customer="C1", decision="reject"))) == []


def test_csv_export_has_every_row_and_defuses_formulas(rows, tmp_path):
    path = tmp_path / "history.csv"
    assert write_csv(rows, path) == 5
    with open(path, encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in table] == [r["id"] for r in rows]
    override = next(r for r in table if r["teller_decision"] == "reject")
    assert override["override_reason"] == '\'=HYPERLINK("x")'  # text, not a formula
    assert override["system_decision"] == "refer"
    assert local_time(table[0]["time"]).date() == date.today() - timedelta(days=1)


@pytest.fixture
def view(qtbot, context):
    _fill(context.store)
    widget = HistoryView(context)
    qtbot.addWidget(widget)
    with qtbot.waitSignal(widget.loaded, timeout=5000):
        widget.show()  # the first show reads the trail, in a worker
    return widget


def test_view_filters_as_one_types_and_picks(qtbot, view):
    assert view.model.rowCount() == 5
    qtbot.keyClicks(view.customer, "C2")
    assert view.model.rowCount() == 2
    view.decision.setCurrentIndex(view.decision.findData("override"))
    assert [r["id"] for r in view.shown_rows] == [5]
    assert "teller: reject" in view.model.text(0, 6)
    view.customer.clear()
    view.decision.setCurrentIndex(0)
    view.use_from.setChecked(True)
    view.date_from.setDate(date.today() - timedelta(days=2))
    assert _ids(view.shown_rows) == [4, 5]
    assert view.count.text() == "2 of 5 rows"


def test_tab_leaves_the_table_for_the_buttons_below(qtbot, view):
    view.activateWindow()
    view.table.setFocus()
    qtbot.waitUntil(view.table.hasFocus, timeout=2000)
    view.table.setCurrentIndex(view.model.index(0, 0))
    qtbot.keyClick(view.table, Qt.Key.Key_Tab)  # not to the next cell: out of the table
    assert not view.table.hasFocus()


def test_view_names_events_in_words_and_the_csv_keeps_the_stored_kinds(view, tmp_path):
    shown = [view.model.text(i, 2) for i in range(view.model.rowCount())]
    assert shown == ["Teller's decision", "Verification", "Teller's decision", "Verification",
                     "Enrolment"]  # fmt: skip
    path = tmp_path / "all.csv"
    view.ask_export_path = lambda: path
    view.export()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        assert {r["kind"] for r in csv.DictReader(handle)} == {
            "enrolment", "verification", "teller_decision"}  # fmt: skip


def test_every_event_the_product_records_has_a_name():
    # AUDIT_KINDS lists every kind the services write (a test of the exchange checks it)
    assert set(EVENT_NAMES) == AUDIT_KINDS
    assert event_name("key_rotated") == "Key rotated"  # a newer version's kind


def test_columns_fit_every_customers_rows_when_read_under_a_filter(qtbot, context):
    """Read with one customer's filter (Ctrl+H on a customer), the columns must still
    fit the others' numbers once the filter is cleared."""
    with context.store.write() as db:
        audit.append(db, "enrolment", "ann", customer_id="C1")
        audit.append(db, "enrolment", "ann", customer_id="A-VERY-LONG-CUSTOMER-NUMBER-1")
    widget = HistoryView(context)
    qtbot.addWidget(widget)
    widget.set_customer("C1")
    with qtbot.waitSignal(widget.loaded, timeout=5000):
        widget.show()
    column = next(
        i
        for i in range(widget.model.columnCount())
        if widget.model.headerData(i, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
        == "Customer"
    )
    widget.customer.clear()
    row = next(i for i, r in enumerate(widget.shown_rows) if r["customer_id"].startswith("A-"))
    text = widget.model.text(row, column)
    needed = widget.table.fontMetrics().horizontalAdvance(text)
    assert widget.table.columnWidth(column) >= needed


def test_view_refreshes_when_the_store_changes(qtbot, context, view):
    with qtbot.waitSignal(view.loaded, timeout=5000):
        with context.store.write() as db:
            audit.append(db, "enrolment", "ann", customer_id="C3")
        context.notify_store_changed()
    assert view.model.rowCount() == 6


def test_a_store_change_reads_only_the_new_rows_and_refresh_reads_all(
    qtbot, context, view, monkeypatch
):
    asked = []
    list_rows = audit.list_rows
    monkeypatch.setattr(
        audit, "list_rows", lambda db, **kw: asked.append(kw) or list_rows(db, **kw)
    )
    for customer in ("C3", "C4"):
        with qtbot.waitSignal(view.loaded, timeout=5000):
            with context.store.write() as db:
                audit.append(db, "enrolment", "ann", customer_id=customer)
            context.notify_store_changed()
    assert asked == [{"after_id": 5}, {"after_id": 6}]
    assert [row["id"] for row in view.shown_rows] == [7, 6, 5, 4, 3, 2, 1]
    assert view.count.text() == "7 of 7 rows"
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.refresh_button.click()
    assert asked[-1] == {"after_id": None}
    assert [row["id"] for row in view.shown_rows] == [7, 6, 5, 4, 3, 2, 1]


def test_another_store_is_read_whole(qtbot, context, view, tmp_path):
    other = tmp_path / "other.db"
    with qtbot.waitSignal(view.loaded, timeout=5000):
        context.replace_store(other)
    assert view.model.rowCount() == 0 and view.count.text() == "0 of 0 rows"
    with qtbot.waitSignal(view.loaded, timeout=5000):
        with context.store.write() as db:
            audit.append(db, "enrolment", "ann", customer_id="N1")
        context.notify_store_changed()
    assert [row["customer_id"] for row in view.shown_rows] == ["N1"]


def test_a_reading_overtaken_by_a_later_one_is_dropped(qtbot, context, view):
    with context.store.write() as db:
        audit.append(db, "enrolment", "ann", customer_id="C3")
    first = view.refresh()
    with qtbot.waitSignal(view.loaded, timeout=5000):
        second = view.refresh()
    qtbot.waitUntil(lambda: not first.running and not second.running, timeout=5000)
    assert [row["id"] for row in view.shown_rows] == [6, 5, 4, 3, 2, 1]  # row 6 once


def test_view_exports_the_rows_shown(qtbot, view, tmp_path):
    view.customer.setText("C1")
    target = tmp_path / "c1.csv"
    view.ask_export_path = lambda: target
    assert view.export() == 3
    with open(target, encoding="utf-8-sig") as handle:
        assert len(handle.read().strip().splitlines()) == 4  # header + 3 rows


def test_view_reports_a_failed_export_as_a_file_problem(qtbot, view, tmp_path, dialogs):
    view.ask_export_path = lambda: tmp_path / "no-such-folder" / "x.csv"
    assert view.export() is None
    assert dialogs.errors and "no-such-folder" in dialogs.errors[0].text


def test_integrity_intact_then_broken(qtbot, context, view):
    with qtbot.waitSignal(view.integrity_checked, timeout=5000) as blocker:
        view.check_integrity()
    assert blocker.args[0].ok
    assert view.integrity.text().startswith("✓") and "5 rows" in view.integrity.text()
    # Someone edits a decision behind the application's back (dropping the guard first).
    db = context.store.db
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET teller_decision = 'accept' WHERE id = 5")
    with qtbot.waitSignal(view.integrity_checked, timeout=5000) as blocker:
        view.check_integrity()
    assert not blocker.args[0].ok
    assert "BROKEN at row 5" in view.integrity.text()
    assert view.check_button.isEnabled()


def test_an_integrity_result_says_when_rows_came_after_it(qtbot, context, view):
    with qtbot.waitSignal(view.integrity_checked, timeout=5000):
        view.check_integrity()
    with context.store.write() as db:
        audit.append(db, "enrolment", "ann", customer_id="C3")
    with qtbot.waitSignal(view.loaded, timeout=5000):
        context.notify_store_changed()
    text = view.integrity.text()
    assert "intact up to the check (5 rows)" in text and "1 newer row not checked" in text
    with qtbot.waitSignal(view.integrity_checked, timeout=5000):
        view.check_integrity()
    assert view.integrity.text() == "✓ Integrity: intact (6 rows checked)"


def test_the_integrity_check_shows_its_progress(qtbot, view):
    task = view.check_integrity()
    reports = []
    task.progressed.connect(lambda done, total, text: reports.append((done, total, text)))
    with qtbot.waitSignal(view.integrity_checked, timeout=5000):
        pass
    assert reports[0] == (0, 5, "0 of 5 rows checked")


def test_a_cancelled_integrity_check_gives_no_verdict(qtbot, view, monkeypatch):
    # Cancel used to say "Cancelling…" and let the check run on to "intact".
    import threading

    from sigverify_gui.ui.qt import QPushButton

    with qtbot.waitSignal(view.integrity_checked, timeout=5000):
        view.check_integrity()
    assert view.integrity.toolTip().startswith("Head of the chain")
    cancel_pressed = threading.Event()
    real = audit.verify_chain
    monkeypatch.setattr(
        audit, "verify_chain", lambda db, **kw: (cancel_pressed.wait(10), real(db, **kw))[1]
    )
    checked = []
    view.integrity_checked.connect(checked.append)
    task = view.check_integrity()
    qtbot.waitUntil(lambda: task.dialog is not None and task.dialog.isVisible(), timeout=5000)
    (cancel,) = [b for b in task.dialog.findChildren(QPushButton) if b.text() == "Cancel"]
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    cancel_pressed.set()
    with qtbot.waitSignal(task.finished, timeout=5000):
        pass
    assert task.was_cancelled and checked == []
    assert view.integrity.text() == "Integrity: not checked (the check was cancelled)"
    assert view.integrity.toolTip() == ""  # not the last check's head either
    assert view.check_button.isEnabled()


def test_a_broken_chain_is_not_reported_for_another_store(qtbot, context, view, tmp_path):
    db = context.store.db
    db.execute("DROP TRIGGER audit_log_no_update")
    db.execute("UPDATE audit_log SET teller_decision = 'accept' WHERE id = 5")
    with qtbot.waitSignal(view.integrity_checked, timeout=5000):
        view.check_integrity()
    assert "BROKEN" in view.integrity.text()
    other = tmp_path / "other.db"
    from sigverify_gui.store.db import Store

    Store(other).close()
    with qtbot.waitSignal(view.loaded, timeout=5000):
        context.replace_store(other)
    assert view.integrity.text() == "Integrity: not checked yet"


def test_the_table_makes_each_cell_from_its_row(view):
    model = view.model
    header = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert header == list(COLUMNS)
    for r, row in enumerate(view.shown_rows):
        assert [model.index(r, c).data() for c in range(len(COLUMNS))] == list(cells(row))
    assert model.index(1, 4).data() == "0.500"  # the score, three places
    assert model.index(0, 4).data() == ""  # a teller's decision has none
    assert model.index(model.rowCount(), 0).data() is None


def test_rows_read_for_the_view_carry_their_local_date(rows):
    for row in with_local_days(rows):
        assert row["local_day"] == local_time(row["time"]).date()


def test_the_table_says_what_a_change_changed_and_why(store):
    import json

    with store.write() as db:
        audit.append(db, "thresholds_changed", "it", t_accept=0.6, t_reject=0.3,
                     detail=json.dumps({"was": {"t_accept": 0.92, "t_reject": 0.486}}))  # fmt: skip
        audit.append(db, "thresholds_changed", "it", detail=json.dumps({"was": {}}))
        audit.append(db, "account_closed", "ann", customer_id="C1",
                     detail=json.dumps({"reason": "moved abroad", "status": "closed"}))  # fmt: skip
    changed, reset, closed = reversed(audit.list_rows(store.db))
    assert outcome(changed) == "accept 0.920 → 0.600, reject 0.486 → 0.300"
    assert outcome(reset) == "back to the model's own"
    assert outcome(closed) == "reason: moved abroad"


def test_the_csv_export_has_the_detail_the_table_shows(qtbot, context, tmp_path):
    """Reasons for a change, what thresholds changed to, why a verification failed:
    an auditor's export had only the stored columns, none of these."""
    import json

    with context.store.write() as db:
        audit.append(db, "account_closed", "ann", customer_id="C1",
                     detail=json.dumps({"reason": "moved abroad", "status": "closed"}))  # fmt: skip
        audit.append(db, "thresholds_changed", "it", t_accept=0.6, t_reject=0.3,
                     detail=json.dumps({"was": {"t_accept": 0.92, "t_reject": 0.486}}))  # fmt: skip
        audit.append(db, "verification_failed", "bob", customer_id="C2",
                     detail=json.dumps({"error": "BlankImageError",
                                        "message": "No ink was found on the page."}))  # fmt: skip
    view = HistoryView(context)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=5000):
        view.show()
    path = tmp_path / "history.csv"
    view.ask_export_path = lambda: path
    view.export()
    with open(path, encoding="utf-8-sig", newline="") as handle:
        exported = [r["outcome"] for r in csv.DictReader(handle)]
    assert exported == [view.model.text(i, 6) for i in range(view.model.rowCount())]
    assert exported == [
        "failed: No ink was found on the page.",
        "accept 0.920 → 0.600, reject 0.486 → 0.300",
        "reason: moved abroad",
    ]


def test_the_table_says_a_change_replaced_thresholds_changed_outside_sigverify(store):
    # It showed the model's own as what the thresholds were: neither what had been
    # stored outside sigverify, nor what the trail had set.
    import json

    from sigverify_gui.services.thresholds import set_thresholds
    from tests.fakes import FakeVerifier, edit_thresholds_setting

    fake = FakeVerifier()
    set_thresholds(store, fake, 0.95, 0.5)
    lowered = {"model_id": fake.model_id, "t_accept": 0.6, "t_reject": 0.2}
    edit_thresholds_setting(store, json.dumps(lowered))
    set_thresholds(store, fake, 0.95, 0.5)
    with store.write() as db:  # as the version before recorded such a change
        audit.append(db, "thresholds_changed", "it", t_accept=0.9, t_reject=0.2,
                     detail=json.dumps({"was": {"t_accept": 0.7, "t_reject": 0.3},
                                        "replaced_damaged_setting": True}))  # fmt: skip
    older, mended = audit.list_rows(store.db)[:2]
    assert outcome(mended) == (
        "accept 0.950, reject 0.500; replaced thresholds changed outside sigverify: accept "
        "0.600 / reject 0.200 were stored, yet audit row 1, their last change, set accept "
        "0.950 / reject 0.500 for model fake-0001"
    )
    assert outcome(older) == "accept 0.700 → 0.900, reject 0.300 → 0.200"


def test_a_row_an_import_brought_says_it_is_another_stores(store):
    # Listed like this store's own, another branch's thresholds change read as if it
    # had set this branch's.
    with store.write() as db:
        audit.append(db, "thresholds_changed", "it", t_accept=0.95, t_reject=0.45,
                     origin=f"export:{'a' * 32}:row:12:{'b' * 64}")  # fmt: skip
        audit.append(db, "thresholds_changed", "it", t_accept=0.9, t_reject=0.4)
    own, imported = audit.list_rows(store.db)
    assert outcome(imported) == "accept 0.950, reject 0.450, imported: row 12 of another store"
    assert outcome(own) == "accept 0.900, reject 0.400"
