"""Settings: defaults in one place, persisted in QSettings, validated before saving."""

from __future__ import annotations

import os

import pytest

from sigverify_gui.ui import settings as settings_mod
from sigverify_gui.ui.qt import Qt
from sigverify_gui.ui.settings import (
    Settings,
    SettingsError,
    load_settings,
    resolve_store_path,
    save_settings,
    validate_settings,
    validate_thresholds,
)
from sigverify_gui.ui.settings_dialog import SettingsDialog, card_summary
from tests.fakes import edit_thresholds_setting, press_settings_ok


def test_defaults_when_nothing_was_saved():
    assert load_settings() == Settings()
    assert Settings().device == "auto" and Settings().theme == "light"


def test_settings_survive_a_round_trip(tmp_path, qsettings):
    hot = tmp_path / "hot"
    hot.mkdir()
    saved = Settings(
        store_path=str(tmp_path / "branch.db"),
        device="cpu",
        scanner_device="sane:test:0",
        hot_folder=str(hot),
        theme="dark",
    )
    save_settings(saved)
    assert load_settings() == saved
    assert list(qsettings.rglob("*.ini"))  # written under the test's own folder


def test_a_hand_edited_bad_value_falls_back_to_its_default():
    q = settings_mod.qsettings()
    q.setValue("settings/device", "quantum")
    q.setValue("settings/theme", "neon")
    q.sync()
    loaded = load_settings()
    assert (loaded.device, loaded.theme) == ("auto", "light")


@pytest.mark.parametrize(
    ("accept", "reject", "fragment"),
    [
        (0.5, 0.6, "must not be above"),
        (1.2, 0.3, "between 0 and 1"),
        (0.5, -0.1, "between 0"),
        (0.3, 0.1, "more likely forged than genuine"),
    ],
)
def test_threshold_validation(accept, reject, fragment):
    with pytest.raises(SettingsError, match=fragment):
        validate_thresholds(accept, reject)
    validate_thresholds(0.7, 0.7)  # equal is allowed: no "refer" band


def test_invalid_settings_are_refused_and_nothing_is_written(tmp_path):
    cases = [
        (Settings(hot_folder=str(tmp_path / "missing")), "does not exist"),
        (Settings(store_path=str(tmp_path / "no" / "such" / "s.db")), "does not exist"),
        (Settings(store_path=str(tmp_path)), "is a folder"),
        (Settings(device="tpu"), "Unknown device"),
    ]
    if os.name == "posix" and os.geteuid() != 0:  # root may write anywhere
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        cases.append((Settings(store_path=str(locked / "s.db")), "cannot be written"))
    for bad, fragment in cases:
        with pytest.raises(SettingsError, match=fragment):
            save_settings(bad)
    assert load_settings() == Settings()
    validate_settings(Settings(store_path=str(tmp_path / "new.db")))  # creatable: fine


def test_store_path_priority(tmp_path, monkeypatch):
    chosen = Settings(store_path=str(tmp_path / "settings.db"))
    assert resolve_store_path(str(tmp_path / "cli.db"), chosen) == tmp_path / "cli.db"
    monkeypatch.setenv("SIGVERIFY_DB", str(tmp_path / "env.db"))
    assert resolve_store_path(None, chosen) == tmp_path / "env.db"
    monkeypatch.delenv("SIGVERIFY_DB")
    assert resolve_store_path(None, chosen) == tmp_path / "settings.db"
    assert resolve_store_path(None, Settings()).name == "sigverify.db"


CARD = {
    "metrics": {
        "validation": {
            "n_writers": 40, "n_genuine": 400, "frr": 0.021, "frr_accept": 0.09,
            "far_skilled": 0.034, "far_random": 0.001, "t_accept": 0.7, "t_reject": 0.3,
        }
    }
}  # fmt: skip


def test_card_summary_states_the_error_rates():
    text = card_summary(CARD)
    assert "2.1%" in text and "3.4%" in text and "0.1%" in text and "9.0%" in text
    assert "400 genuine" in text
    assert "no error rates" in card_summary({})


def _dialog(qtbot, context):
    dialog = SettingsDialog(context)
    qtbot.addWidget(dialog)
    return dialog


def test_dialog_shows_model_defaults_and_their_error_rates(qtbot, context):
    context.verifier.card = CARD
    dialog = _dialog(qtbot, context)
    assert dialog.accept_spin.value() == pytest.approx(0.7)
    assert dialog.reject_spin.value() == pytest.approx(0.3)
    assert "fake-0001" in dialog.defaults_label.text()
    assert "3.4%" in dialog.card_label.text()


def test_dialog_says_the_branch_thresholds_were_set_for_another_calibration(qtbot, context):
    from sigverify_gui.services.thresholds import set_thresholds
    from tests.fakes import FakeVerifier

    before_recalibration = FakeVerifier(calibration_id="cal-before")
    set_thresholds(context.store, before_recalibration, 0.9, 0.2)
    dialog = _dialog(qtbot, context)
    assert dialog.accept_spin.value() == pytest.approx(0.7)  # the model's own
    assert "set for another model or calibration" in dialog.defaults_label.text()
    assert dialog._edited_thresholds() == (None, None)  # OK clears the lapsed setting


LOWERED_OUTSIDE_SIGVERIFY = '{"model_id": "fake-0001", "t_accept": 0.55, "t_reject": 0.1}'


def test_dialog_says_the_thresholds_are_damaged_and_saving_mends_them(qtbot, context):
    from sigverify_gui.services.thresholds import thresholds_in_force
    from sigverify_gui.store import audit
    from sigverify_gui.store.errors import StoreError

    edit_thresholds_setting(context.store, LOWERED_OUTSIDE_SIGVERIFY)
    dialog = _dialog(qtbot, context)
    assert dialog.accept_spin.value() == pytest.approx(0.7)  # the model's own, not 0.55
    assert "changed outside sigverify" in dialog.defaults_label.text()
    assert "Saving here sets them again" in dialog.defaults_label.text()
    with pytest.raises(StoreError):
        thresholds_in_force(context.store, context.verifier)
    assert press_settings_ok(qtbot, dialog)  # the model's own values, unchanged in the form
    assert thresholds_in_force(context.store, context.verifier).source == "model"
    assert audit.list_rows(context.store.db)[0]["kind"] == "thresholds_changed"


def test_deleted_branch_thresholds_are_offered_back_as_the_trail_recorded_them(qtbot, context):
    # Whoever deleted the branch's stricter thresholds wanted the model's lower ones:
    # the next OK in Settings must not give them that.
    from sigverify_gui.services.thresholds import thresholds_in_force

    context.set_thresholds(0.95, 0.5)
    edit_thresholds_setting(context.store, None)
    dialog = _dialog(qtbot, context)
    assert dialog.accept_spin.value() == pytest.approx(0.95)
    assert "none are stored" in dialog.defaults_label.text()
    assert press_settings_ok(qtbot, dialog)
    in_force = thresholds_in_force(context.store, context.verifier)
    assert (in_force.source, in_force.t_accept, in_force.t_reject) == ("settings", 0.95, 0.5)


def test_without_torch_the_dialog_offers_no_graphics_card(qtbot, context, monkeypatch):
    import model.verifier

    with_torch = _dialog(qtbot, context)
    offered = [with_torch.device.itemData(i) for i in range(with_torch.device.count())]
    assert offered == ["auto", "cpu", "cuda"]
    monkeypatch.setattr(model.verifier, "torch_available", lambda: False)
    dialog = _dialog(qtbot, context)
    assert [dialog.device.itemData(i) for i in range(dialog.device.count())] == ["auto", "cpu"]


def test_a_graphics_card_the_model_did_not_find_cannot_be_chosen(qtbot, context, fake_verifier):
    cuda = ["auto", "cpu", "cuda"].index("cuda")
    fake_verifier.gpu_available = True
    found = _dialog(qtbot, context)
    assert found.device.model().item(cuda).isEnabled()
    assert found.device.itemText(cuda) == "CUDA graphics card"

    fake_verifier.gpu_available = False
    dialog = _dialog(qtbot, context)
    assert not dialog.device.model().item(cuda).isEnabled()
    assert "none found on this computer" in dialog.device.itemText(cuda)
    dialog.device.setFocus()
    for _ in range(3):  # the keyboard passes it by too
        qtbot.keyClick(dialog.device, Qt.Key.Key_Down)
    assert dialog.device.currentData() == "cpu"


def test_accepting_below_the_models_threshold_needs_a_second_ok(qtbot, context):
    model_accept = round(context.verifier.t_accept, 3)
    dialog = _dialog(qtbot, context)
    dialog.open()
    dialog.accept_spin.setValue(model_accept - 0.1)
    dialog.reject_spin.setValue(0.2)
    assert dialog.accept_changes() is False  # said first, nothing written
    assert "Press OK again" in dialog.problem.text() and dialog.isVisible()
    assert context.thresholds().source == "model"
    assert press_settings_ok(qtbot, dialog)  # the same values, seen: applied
    assert context.thresholds().t_accept == pytest.approx(model_accept - 0.1)


def test_dialog_refuses_crossed_thresholds_and_stays_open(qtbot, context):
    dialog = _dialog(qtbot, context)
    dialog.open()
    dialog.accept_spin.setValue(0.4)
    dialog.reject_spin.setValue(0.6)
    assert dialog.accept_changes() is False
    assert "must not be above" in dialog.problem.text()
    assert dialog.isVisible()
    assert context.thresholds().source == "model"  # nothing was written


def test_dialog_saves_thresholds_to_the_store_and_the_rest_to_qsettings(qtbot, context, tmp_path):
    hot = tmp_path / "hot"
    hot.mkdir()
    dialog = _dialog(qtbot, context)
    dialog.accept_spin.setValue(0.82)
    dialog.reject_spin.setValue(0.25)
    dialog.hot_folder.setText(str(hot))
    dialog.scanner.setCurrentText("sane:test:0")
    assert press_settings_ok(qtbot, dialog), dialog.problem.text()
    in_force = context.thresholds()
    assert (in_force.t_accept, in_force.t_reject, in_force.source) == (0.82, 0.25, "settings")
    saved = load_settings()
    assert saved.hot_folder == str(hot) and saved.scanner_device == "sane:test:0"
    # back to the model's defaults: the branch setting is removed, not copied
    dialog = _dialog(qtbot, context)
    dialog.use_model_defaults()
    assert press_settings_ok(qtbot, dialog)
    assert context.thresholds().source == "model"


def test_dialog_reports_a_missing_hot_folder(qtbot, context, tmp_path):
    dialog = _dialog(qtbot, context)
    dialog.hot_folder.setText(str(tmp_path / "nowhere"))
    assert dialog.accept_changes() is False
    assert "does not exist" in dialog.problem.text()


def test_dialog_switches_to_another_store(qtbot, context, tmp_path):
    dialog = _dialog(qtbot, context)
    assert dialog.store_path.text() == str(context.store.path)
    dialog.store_path.setText(str(tmp_path / "branch-2.db"))
    with qtbot.waitSignal(context.store_replaced, timeout=1000):
        assert dialog.accept_changes(), dialog.problem.text()
    assert context.store.path == tmp_path / "branch-2.db"
    assert load_settings().store_path == str(tmp_path / "branch-2.db")


def test_the_dialog_shows_its_wrapped_texts_whole(qtbot, context):
    """The model's defaults and error rates wrap over several lines; the dialog opened
    too short for them and cut them off (on a 1024 x 600 screen, and elsewhere)."""
    context.verifier.card = CARD
    dialog = _dialog(qtbot, context)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(50)
    for label in (dialog.defaults_label, dialog.card_label):
        assert label.height() >= label.heightForWidth(label.width()), label.text()
    assert not dialog.problem.isVisible()  # no empty line above the buttons


def test_a_warning_grows_the_dialog_rather_than_cut_the_error_rates(qtbot, context):
    # The warning about a lower accept threshold asks the supervisor to weigh the
    # model's error rates: squeezed in under it, they had been cut off.
    context.verifier.card = CARD
    dialog = _dialog(qtbot, context)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.accept_spin.setValue(round(context.verifier.t_accept, 3) - 0.1)
    dialog.reject_spin.setValue(0.2)
    assert dialog.accept_changes() is False
    qtbot.wait(50)
    assert dialog.problem.isVisible()
    for label in (dialog.defaults_label, dialog.card_label, dialog.problem):
        assert label.height() >= label.heightForWidth(label.width()), label.text()
