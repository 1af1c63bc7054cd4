"""The customer panel's retire, replace and close/reopen actions, through the real
widgets and services with the fake verifier: confirmation, reason, audit, refresh."""

from __future__ import annotations

import json

import pytest

from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.store import records
from sigverify_gui.ui.customer_actions import ReasonDialog
from sigverify_gui.ui.customer_panel import CustomerPanel
from sigverify_gui.ui.qt import QDialogButtonBox
from tests.fakes import store_contents, write_signatures


@pytest.fixture
def sigs(tmp_path):
    return {w: write_signatures(tmp_path / "sigs", w, 6) for w in (2, 3)}


@pytest.fixture
def panel(qtbot, context, fake_verifier, sigs):
    enrol_customer(context.store, fake_verifier, "1001", sigs[2][:4], name="Anna", operator="t1")
    p = CustomerPanel(context.store, context=context)
    qtbot.addWidget(p)
    p.set_customer("1001")
    return p


def active_ids(context) -> list[int]:
    return [r.id for r in records.references_of(context.store.db, "1001")]


def last_audit(context) -> dict:
    return store_contents(context.store)["audit_log"][-1]


def confirm(qtbot, panel, reason: str) -> None:
    dialog = panel.dialog
    assert isinstance(dialog, ReasonDialog)
    assert not dialog.ok_button.isEnabled()  # no reason yet
    qtbot.keyClicks(dialog.reason_edit, reason)
    assert dialog.ok_button.isEnabled()
    dialog.ok_button.click()


def wait_idle(qtbot, panel) -> None:
    qtbot.waitUntil(lambda: panel.task is None, timeout=10_000)


def test_buttons_need_a_selected_reference(panel):
    assert panel.account_button.isEnabled()
    assert not panel.retire_button.isEnabled() and not panel.replace_button.isEnabled()
    panel.select_reference(2)
    assert panel.retire_button.isEnabled() and panel.replace_button.isEnabled()
    panel.set_customer(None)
    assert not panel.account_button.isEnabled() and not panel.retire_button.isEnabled()


def test_retire_asks_reason_and_refreshes(qtbot, panel, context):
    ids = active_ids(context)
    panel.select_reference(2)
    assert panel.thumbnails.item(1).toolTip().endswith(f"(database id {ids[1]})")
    with qtbot.waitSignal(context.store_changed, timeout=10_000):
        panel.retire_button.click()
        assert "reference #2" in panel.dialog.text.text()
        confirm(qtbot, panel, "torn scan")
    wait_idle(qtbot, panel)
    assert active_ids(context) == [ids[0], *ids[2:]]
    assert panel.reference_ids() == [ids[0], *ids[2:]]  # the panel shows the change
    row = last_audit(context)
    assert row["kind"] == "reference_deactivated" and row["operator"] == context.operator
    assert json.loads(row["detail"]) == {"reference_id": ids[1], "reason": "torn scan"}
    assert "Reference #2 of customer 1001 was retired" in panel.message.text()


def test_cancelled_retire_changes_nothing(qtbot, panel, context):
    before = store_contents(context.store)
    panel.select_reference(1)
    panel.retire_button.click()
    panel.dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel).click()
    assert panel.dialog is None and panel.task is None
    assert store_contents(context.store) == before


def test_replace_runs_the_checks_in_a_worker(qtbot, panel, context, sigs):
    ids = active_ids(context)
    panel.select_reference(1)
    panel.replace_button.click()
    file_dialog = panel.dialog
    assert file_dialog is not None
    with qtbot.waitSignal(context.store_changed, timeout=10_000):
        file_dialog.fileSelected.emit(str(sigs[2][4]))
        file_dialog.close()
    wait_idle(qtbot, panel)
    now = active_ids(context)
    assert len(now) == 4 and ids[0] not in now and now[:3] == ids[1:]
    assert panel.reference_ids() == now
    row = last_audit(context)
    assert row["kind"] == "reference_replaced" and json.loads(row["detail"])["replaced"] == ids[0]
    assert "Reference #1 of customer 1001 was replaced." in panel.message.text()


def test_replace_with_an_unlike_signature_needs_a_supervisor(qtbot, panel, context, sigs):
    ids = active_ids(context)
    before = store_contents(context.store)
    panel.replace_with(ids[0], 1, sigs[3][0])
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.task is None, timeout=10_000)
    assert store_contents(context.store) == before  # refused: nothing written
    text = panel.dialog.text()
    assert text.count("supervisor") == 2 and "make it the replacement anyway" in text
    assert text.endswith("Reference #1 is kept unless a supervisor replaces it.")
    with qtbot.waitSignal(context.store_changed, timeout=10_000):
        panel.force_button.click()
    wait_idle(qtbot, panel)
    assert ids[0] not in active_ids(context)
    detail = json.loads(last_audit(context)["detail"])
    assert detail["forced"] is True and detail["replaced"] == ids[0]


def test_replace_with_a_bad_file_shows_an_error(qtbot, panel, context, dialogs, tmp_path):
    before = store_contents(context.store)
    bad = tmp_path / "not-an-image.png"
    bad.write_bytes(b"nothing here")
    panel.replace_with(active_ids(context)[0], 1, bad)
    qtbot.waitUntil(lambda: bool(dialogs.errors), timeout=10_000)
    wait_idle(qtbot, panel)
    assert store_contents(context.store) == before


def test_replace_says_it_did_not_happen_when_the_model_fails_to_load(
    qtbot, context, fake_verifier, sigs, dialogs
):
    # The waiting message used to stay ("Waiting for the signature model…") for good.
    from model.errors import ModelError
    from sigverify_gui.ui.context import AppContext

    def missing(device):
        raise ModelError("The bundled model sigverify-v1.pt is missing.")

    enrol_customer(context.store, fake_verifier, "1001", sigs[2][:4], name="Anna")
    failing = AppContext(context.store, verifier_factory=missing)
    panel = CustomerPanel(context.store, context=failing)
    qtbot.addWidget(panel)
    panel.set_customer("1001")
    panel.select_reference(1)
    before = store_contents(context.store)
    with qtbot.waitSignal(failing.verifier_failed, timeout=5000):
        panel.replace_with(active_ids(context)[0], 1, sigs[2][4])
        assert panel.message.text() == "Waiting for the signature model…"
    assert panel.message.text() == (
        "Reference #1 of customer 1001 was not replaced: the signature model could not be loaded."
    )
    assert [m.text for m in dialogs.errors] == ["The bundled model sigverify-v1.pt is missing."]
    assert store_contents(context.store) == before
    assert panel.replace_button.isEnabled()


def test_close_and_reopen_account(qtbot, panel, context):
    assert panel.verify_button.isEnabled()
    with qtbot.waitSignal(context.store_changed, timeout=10_000):
        panel.account_button.click()
        assert "the account of customer 1001 (Anna)?" in panel.dialog.text.text()
        confirm(qtbot, panel, "customer left")
    wait_idle(qtbot, panel)
    assert records.get_customer(context.store.db, "1001").status == "closed"
    row = last_audit(context)
    assert row["kind"] == "account_closed" and row["customer_id"] == "1001"
    assert json.loads(row["detail"])["reason"] == "customer left"
    assert not panel.verify_button.isEnabled() and not panel.enrol_button.isEnabled()
    assert "closed" in panel.details.text() and panel.account_button.text() == "Re&open account…"
    panel.thumbnails.setCurrentRow(0)  # its references stay as they were
    assert not panel.retire_button.isEnabled() and not panel.replace_button.isEnabled()

    with qtbot.waitSignal(context.store_changed, timeout=10_000):
        panel.account_button.click()
        confirm(qtbot, panel, "came back")
    wait_idle(qtbot, panel)
    assert records.get_customer(context.store.db, "1001").status == "active"
    assert last_audit(context)["kind"] == "account_reopened"
    assert panel.verify_button.isEnabled() and panel.enrol_button.isEnabled()
    panel.set_customer(None)  # nobody selected: nothing to reopen
    assert panel.account_button.text() == "C&lose account…"
    assert not panel.account_button.isEnabled()


def test_verify_result_numbers_references_as_the_panel_does(qtbot, panel, context, sigs):
    from sigverify_gui.ui.verify_view import VerificationView

    # retire #1: the database ids (2, 3, 4) no longer match the numbers (#1..#3)
    panel.select_reference(1)
    panel.retire_button.click()
    confirm(qtbot, panel, "faded")
    wait_idle(qtbot, panel)
    shown = {
        panel.thumbnails.item(i).data(256): panel.thumbnails.item(i).text().split()[0]
        for i in range(panel.thumbnails.count())
    }  # database id -> "#n" as the panel shows it
    assert list(shown.values()) == ["#1", "#2", "#3"] and list(shown) != [1, 2, 3]

    view = VerificationView(context)
    qtbot.addWidget(view)
    view.set_customer("1001")
    with qtbot.waitSignal(view.panel.add_files([sigs[2][5]]).finished, timeout=10_000):
        pass
    view.verify_button.click()
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    page = view.result_page
    for reference_id, number in shown.items():
        assert f"{number} · " in page.strip.caption(reference_id)
    closest = page.outcome.closest.reference_id
    assert page.pair.right_caption.text().startswith(f"Reference {shown[closest]} (the closest)")
