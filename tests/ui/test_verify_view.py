"""Verification through the real widgets: capture -> verify -> result -> the teller's
decision in the audit trail; re-embedding for a new model; the error paths."""

from __future__ import annotations

import time

import numpy as np
import pytest

from model.imageio import encode_png
from model.pages import make_unsigned_page
from sigverify_gui.services.enrol import enrol_customer
from sigverify_gui.services.thresholds import shown_score
from sigverify_gui.store import audit, records
from sigverify_gui.ui.qt import QApplication, Qt
from sigverify_gui.ui.verify_view import CAPTURE_PAGE, RESULT_PAGE, VerificationView
from tests.fakes import FakeVerifier, render_signatures, write_signatures

GENUINE_SEED, OTHER_SEED = 38, 41  # consistent under FakeVerifier


@pytest.fixture
def enrolled(context, fake_verifier):
    enrol_customer(
        context.store, fake_verifier, "V-1", render_signatures(GENUINE_SEED, 4), name="Vera"
    )
    return "V-1"


@pytest.fixture
def view(qtbot, context, enrolled):
    v = VerificationView(context)
    qtbot.addWidget(v)
    v.resize(1280, 860)
    v.show()
    v.set_customer(enrolled)
    return v


def _shown(result) -> str:
    t = result.thresholds
    return shown_score(result.score, result.decision, t.t_accept, t.t_reject)


def bring_in(qtbot, view, path):
    task = view.panel.add_files([path])
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass


def verify(qtbot, view):
    assert view.verify_button.isEnabled()
    qtbot.mouseClick(view.verify_button, Qt.MouseButton.LeftButton)
    assert view.task is not None
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass


def record(qtbot, view):
    panel = view.result_page.decision
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass


def test_verify_then_override_requires_a_reason_and_is_audited(qtbot, view, context, tmp_path):
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=4)
    bring_in(qtbot, view, path)
    assert view.questioned.ok and view.verify_button.isEnabled()
    verify(qtbot, view)

    assert view.pages.currentIndex() == RESULT_PAGE
    page = view.result_page
    result = page.outcome.result
    assert result.decision == "accept"
    assert page.gauge.score_text() == _shown(result)
    assert "ACCEPT" in page.gauge.decision_text()
    # the questioned beside the closest reference, at one scale; all references in the strip
    assert page.pair.left.has_image() and page.pair.right.has_image()
    assert page.pair.left.effective_scale() == pytest.approx(page.pair.right.effective_scale())
    assert page.strip.count() == 4
    assert page.strip.current_key() == result.closest_reference_id
    # each reference captioned with the match score it gives alone, the closest first
    assert page.strip.keys() == [rid for rid, _ in result.reference_scores]
    for rid, alone in result.reference_scores:
        assert f"· {alone:.3f}" in page.strip.caption(rid)
    closest_alone = dict(result.reference_scores)[result.closest_reference_id]
    assert f"match {closest_alone:.3f} against it alone" in page.pair.right_caption.text()
    assert page.overlay.displayed_image() is not None and page.overlay.alignment is not None

    panel = page.decision
    qtbot.mouseClick(panel.buttons["reject"], Qt.MouseButton.LeftButton)
    assert panel.overrides() and not panel.record_button.isEnabled()
    assert "reason is required" in panel.hint.text()
    qtbot.keyClicks(panel.reason, "Customer says it is not her signature")
    assert panel.record_button.isEnabled()
    record(qtbot, view)

    rows = audit.list_rows(context.store.db, customer_id="V-1", kinds=("teller_decision",))
    assert len(rows) == 1
    row = rows[0]
    assert row["teller_decision"] == "reject" and row["system_decision"] == "accept"
    assert row["override_reason"] == "Customer says it is not her signature"
    assert row["verification_id"] == result.verification_id
    assert "overriding the system's Accept" in panel.status.text()
    assert not panel.buttons["accept"].isEnabled()  # one decision per verification
    view.set_customer("V-1")  # the customer list refreshing: the result stays
    assert view.pages.currentIndex() == RESULT_PAGE

    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    assert view.pages.currentIndex() == CAPTURE_PAGE
    assert view.questioned is None and not view.verify_button.isEnabled()


def move_on_without_a_decision(qtbot, view) -> None:
    qtbot.mouseClick(view.result_page.next_button, Qt.MouseButton.LeftButton)
    box = view.leave_box
    assert box is not None and box.isVisible() and "not recorded a decision" in box.text()
    move_on = next(b for b in box.buttons() if b.text() == "&Move on")
    qtbot.mouseClick(move_on, Qt.MouseButton.LeftButton)
    assert view.pages.currentIndex() == CAPTURE_PAGE


def test_next_signature_before_a_decision_asks_first(qtbot, view, tmp_path):
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=4)
    bring_in(qtbot, view, path)
    verify(qtbot, view)
    qtbot.mouseClick(view.result_page.next_button, Qt.MouseButton.LeftButton)
    box = view.leave_box
    assert box.defaultButton().text() == "&Stay and decide"
    qtbot.mouseClick(box.defaultButton(), Qt.MouseButton.LeftButton)
    assert view.pages.currentIndex() == RESULT_PAGE and view.leave_box is None
    move_on_without_a_decision(qtbot, view)


def test_a_black_and_white_capture_is_verified_with_a_caution(qtbot, view, tmp_path):
    from model.imageio import encode_png

    (gray,) = render_signatures(GENUINE_SEED, 1, first=4)
    path = tmp_path / "black-and-white.png"
    path.write_bytes(encode_png(np.where(gray < 128, 0, 255).astype(np.uint8)))
    bring_in(qtbot, view, path)
    assert "black and white" in view.panel.preview.details.text()
    verify(qtbot, view)
    caution = view.result_page.caution
    assert caution.isVisible() and "scanned in black and white" in caution.text()
    move_on_without_a_decision(qtbot, view)
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=5)
    bring_in(qtbot, view, path)
    verify(qtbot, view)
    assert not caution.isVisible()  # greyscale, as the references are


def test_agreeing_with_the_system_needs_no_reason(qtbot, view, context, tmp_path):
    (path,) = write_signatures(tmp_path, OTHER_SEED, 1)
    bring_in(qtbot, view, path)
    verify(qtbot, view)
    system = view.result_page.outcome.result.decision
    assert system in ("reject", "refer")  # another writer's signature
    panel = view.result_page.decision
    panel.choose(system)
    assert panel.record_button.isEnabled() and not panel.overrides()
    record(qtbot, view)
    (row,) = audit.list_rows(context.store.db, customer_id="V-1", kinds=("teller_decision",))
    assert row["teller_decision"] == system and row["override_reason"] is None


def test_the_closest_references_canvas_is_shown_as_it_was_stored(qtbot, view, tmp_path):
    # The very image of the first reference, verified again: its stored canvas and the
    # questioned one are the same picture (ink bright on dark), not one the negative of
    # the other, or the overlay and the heat map say they differ everywhere.
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1)
    bring_in(qtbot, view, path)
    verify(qtbot, view)
    outcome = view.result_page.outcome
    same = [r for r in outcome.references if r.score == max(r.score for r in outcome.references)]
    questioned = outcome.questioned.canvas
    assert questioned.mean() < 0.5  # mostly dark ground
    assert min(np.abs(r.canvas - questioned).max() for r in same) <= 1 / 255 + 1e-6


def test_a_verification_is_audited_even_before_the_decision(qtbot, view, context, tmp_path):
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=5)
    bring_in(qtbot, view, path)
    verify(qtbot, view)
    rows = audit.list_rows(context.store.db, customer_id="V-1", kinds=("verification",))
    assert len(rows) == 1 and rows[0]["has_image"]


def test_unusable_capture_cannot_be_verified(qtbot, view):
    import numpy as np

    task = view.panel.add_array(np.full((150, 400), 255, np.uint8), None, "white paper")
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    assert not view.questioned.ok
    assert not view.verify_button.isEnabled()
    assert "cannot be verified" in view.status.text()


def test_a_page_brought_in_as_the_signature_points_to_the_page_search(qtbot, view, tmp_path):
    import cv2

    page = np.full((1000, 2400), 245, np.uint8)  # a signature card scanned whole
    signature = render_signatures(GENUINE_SEED, 1, first=4)[0]
    h, w = signature.shape
    page[300 : 300 + h, 1200 : 1200 + w] = signature
    cv2.putText(page, "Authorised signature", (100, 300 + h // 2), 0, 1.2, 30, 3)
    path = tmp_path / "card.png"
    path.write_bytes(encode_png(page))
    bring_in(qtbot, view, path)
    assert not view.questioned.ok and not view.verify_button.isEnabled()
    reasons = view.panel.preview.reasons.text()
    assert "more than a signature" in reasons and "use Whole cheque/form…" in reasons


def test_a_page_with_no_signature_found_is_no_failed_verification(
    qtbot, view, context, tmp_path, monkeypatch
):
    # `verify --page --record-failure` records such a page: on the command line it is
    # the whole attempt. Here it is a capture refused before Verify, as an unusable
    # signature image is: the teller draws the box or brings another page, and a
    # failure recorded now would stand beside the verification that follows.
    page = make_unsigned_page(np.random.default_rng(1), kind="cheque")  # print only
    path = tmp_path / "unsigned.png"
    path.write_bytes(encode_png(page, dpi=300.0))
    before = audit.list_rows(context.store.db)
    monkeypatch.setattr(view.panel, "ask_page_file", lambda: str(path))
    task = view.panel.open_cheque_file()  # Whole cheque/form… > From a file…
    with qtbot.waitSignal(task.finished, timeout=10_000):
        pass
    dialog = view.panel.cheque_dialog
    qtbot.waitUntil(lambda: dialog.task is None, timeout=10_000)
    assert "No handwritten signature was found" in dialog.status.text()
    assert not dialog.ok_button.isEnabled()
    cancel = dialog.buttons.button(dialog.buttons.StandardButton.Cancel)
    qtbot.mouseClick(cancel, Qt.MouseButton.LeftButton)
    assert view.questioned is None and not view.verify_button.isEnabled()
    assert audit.list_rows(context.store.db) == before


def test_customer_removed_meanwhile_gives_a_clear_message(qtbot, view, context, tmp_path, dialogs):
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=4)
    bring_in(qtbot, view, path)
    with context.store.write() as db:  # e.g. deleted at another workstation
        records.delete_customer(db, "V-1")
    verify(qtbot, view)
    assert len(dialogs.errors) == 1
    assert "No customer with number V-1" in dialogs.errors[0].text
    assert view.pages.currentIndex() == CAPTURE_PAGE
    failed = audit.list_rows(context.store.db, kinds=("verification_failed",))
    assert len(failed) == 1


def test_no_customer_selected_means_no_verify(qtbot, view, tmp_path):
    view.set_customer(None)
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=4)
    bring_in(qtbot, view, path)
    assert not view.verify_button.isEnabled()
    view.set_customer("nobody")  # not enrolled: treated as no customer
    assert view.customer_id is None and not view.verify_button.isEnabled()


def test_references_of_another_model_are_reembedded_first(qtbot, context, tmp_path):
    old = FakeVerifier(model_id="fake-old")
    enrol_customer(context.store, old, "V-2", render_signatures(GENUINE_SEED, 3))
    assert records.stale_reference_ids(context.store.db, context.verifier.model_id, "V-2")
    view = VerificationView(context)
    qtbot.addWidget(view)
    view.set_customer("V-2")
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=4)
    bring_in(qtbot, view, path)
    progress = []
    verify_button = view.verify_button
    qtbot.mouseClick(verify_button, Qt.MouseButton.LeftButton)
    view.task.progressed.connect(lambda d, t, text: progress.append(text))
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    assert not records.stale_reference_ids(context.store.db, context.verifier.model_id, "V-2")
    assert any("Updating 3 reference" in text for text in progress)
    assert view.pages.currentIndex() == RESULT_PAGE


def test_paste_brings_in_a_questioned_signature(qtbot, view):
    from sigverify_gui.ui.signature_view import gray_to_qimage

    gray = render_signatures(GENUINE_SEED, 1, first=6)[0]
    QApplication.clipboard().setImage(gray_to_qimage(gray))
    with qtbot.waitSignal(view.panel.captured, timeout=10_000) as captured:
        view.panel.paste()
    inspected = captured.args[0]
    assert inspected.capture.gray.shape == gray.shape
    assert inspected.source == "pasted image" and inspected.ok
    assert view.verify_button.isEnabled()


def test_paste_with_no_image_says_what_to_copy_not_to_check_the_scanner(view, dialogs):
    QApplication.clipboard().setText("not a picture")
    assert view.panel.paste() is None
    (message,) = dialogs.errors
    assert message.title == "Nothing to paste" and "copy a signature image" in message.text
    assert "scanner" not in message.hint


def _bundled_weights():
    from model.resources import resources_dir

    return resources_dir() / "sigverify-v1.pt"


@pytest.mark.slow
@pytest.mark.skipif(
    not _bundled_weights().is_file(),
    reason="the bundled weights resources/sigverify-v1.pt are not in this checkout yet",
)
def test_enrol_and_verify_with_the_real_model(qtbot, store, tmp_path):
    from sigverify_gui.ui.context import AppContext, load_real_verifier
    from sigverify_gui.ui.enrol_view import EnrolmentView
    from sigverify_gui.ui.settings import Settings

    ctx = AppContext(store, Settings(store_path=str(store.path), device="cpu"), load_real_verifier)
    with qtbot.waitSignal(ctx.verifier_ready, timeout=60_000):
        ctx.load_verifier()
    enrol = EnrolmentView(ctx)
    qtbot.addWidget(enrol)
    task = enrol.panel.add_files(write_signatures(tmp_path / "refs", GENUINE_SEED, 4))
    with qtbot.waitSignal(task.finished, timeout=20_000):
        pass
    enrol.number_edit.setText("R-1")
    with qtbot.waitSignal(enrol.customer_enrolled, timeout=60_000):
        enrol.save(force=True)  # the check's verdict on synthetic hands is not under test

    view = VerificationView(ctx)
    qtbot.addWidget(view)
    view.set_customer("R-1")
    bring_in(qtbot, view, write_signatures(tmp_path, GENUINE_SEED, 1, first=4)[0])
    verify(qtbot, view)
    result = view.result_page.outcome.result
    assert result.model_id == ctx.verifier.model_id and 0.0 <= result.score <= 1.0
    assert view.result_page.gauge.score_text() == _shown(result)


def test_verify_waits_for_the_model_and_recovers_when_it_fails(qtbot, store, tmp_path, dialogs):
    from model.errors import ModelError
    from sigverify_gui.ui.context import AppContext
    from sigverify_gui.ui.settings import Settings

    attempts = []

    def factory(device):
        attempts.append(device)
        time.sleep(0.2)
        if len(attempts) == 1:
            raise ModelError("The bundled model sigverify-v1.pt is missing.")
        return FakeVerifier()

    enrol_customer(store, FakeVerifier(), "V-3", render_signatures(GENUINE_SEED, 3))
    ctx = AppContext(store, Settings(store_path=str(store.path)), verifier_factory=factory)
    view = VerificationView(ctx)
    qtbot.addWidget(view)
    view.set_customer("V-3")
    bring_in(qtbot, view, write_signatures(tmp_path, GENUINE_SEED, 1, first=4)[0])
    with qtbot.waitSignal(ctx.verifier_failed, timeout=5000):
        view.verify()
        assert "Waiting for the signature model" in view.status.text()
    assert dialogs.errors[-1].text.startswith("The bundled model")
    assert view.verify_button.isEnabled()  # another try is possible
    with qtbot.waitSignal(ctx.verifier_ready, timeout=5000):
        view.verify()
    qtbot.waitUntil(lambda: view.pages.currentIndex() == RESULT_PAGE, timeout=10_000)


def test_enter_verifies_from_anywhere_on_the_page(qtbot, view, context, tmp_path):
    # Verify is drawn as the default button; Qt honours that only in dialogs, and a
    # teller who chose a file and pressed Enter had waited for nothing.
    (path,) = write_signatures(tmp_path, GENUINE_SEED, 1, first=4)
    bring_in(qtbot, view, path)
    view.activateWindow()
    view.panel.preview.setFocus()  # where the focus lands once a file is open
    qtbot.waitUntil(lambda: view.panel.preview.hasFocus(), timeout=2000)
    qtbot.keyClick(view.panel.preview, Qt.Key.Key_Return)
    assert view.task is not None
    with qtbot.waitSignal(view.task.finished, timeout=10_000):
        pass
    assert view.pages.currentIndex() == RESULT_PAGE


def test_enter_does_nothing_before_there_is_a_signature_to_verify(qtbot, view):
    view.activateWindow()
    view.panel.setFocus()
    qtbot.keyClick(view.panel, Qt.Key.Key_Enter)
    assert view.task is None and not view.waiting_for_model
