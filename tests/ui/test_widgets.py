"""The display widgets: score gauge, shared-scale views, thumbnails, overlay, preview."""

from __future__ import annotations

import numpy as np
import pytest

from model.preprocess import preprocess
from sigverify_gui.services.captures import Capture
from sigverify_gui.services.compare import QUESTIONED_RGB, shift_image
from sigverify_gui.services.thresholds import shown_score
from sigverify_gui.ui.capture_preview import CapturePreview, inspect_capture
from sigverify_gui.ui.capture_sources import qimage_to_gray
from sigverify_gui.ui.compare_overlay import HEATMAP, OVERLAY, CompareOverlay
from sigverify_gui.ui.qt import QApplication, QColor, QImage, Qt, QtGui
from sigverify_gui.ui.score_gauge import DECISION_STYLES, ScoreGauge
from sigverify_gui.ui.signature_view import SignaturePair, SignatureView, gray_to_qimage
from sigverify_gui.ui.thumbnail_strip import STATUS_STYLES, ThumbnailStrip
from tests.fakes import render_signatures


@pytest.fixture(scope="module")
def signature():
    return render_signatures(31, 1)[0]


def _pixel(widget, x: float, y: float) -> QColor:
    return widget.grab().toImage().pixelColor(int(x), int(y))


def _close(c: QColor, hex_colour: str, tol: int = 12) -> bool:
    want = QColor(hex_colour)
    return all(abs(a - b) <= tol for a, b in zip(c.getRgb()[:3], want.getRgb()[:3], strict=True))


# --- score gauge -------------------------------------------------------------------------
@pytest.mark.parametrize("score,decision", [(0.12, "reject"), (0.5, "refer"), (0.91, "accept")])
def test_gauge_shows_score_bands_and_decision(qtbot, score, decision):
    gauge = ScoreGauge()
    qtbot.addWidget(gauge)
    gauge.resize(600, 220)
    gauge.show()
    gauge.set_result(score, decision, t_accept=0.7, t_reject=0.3)
    assert gauge.score_text() == f"{score:.3f}"
    assert DECISION_STYLES[decision][2].upper() in gauge.decision_text()
    assert f"{score:.3f}" in gauge.accessibleDescription()
    assert "0.70" in gauge.accessibleDescription() and "0.30" in gauge.accessibleDescription()
    bar = gauge.bar
    rect = bar.bar_rect()
    y = rect.top() + 4  # the band's top edge: clear of the band's text label
    for value, band in ((0.05, "reject"), (0.5, "refer"), (0.95, "accept")):
        if abs(value - score) > 0.05:  # not where the needle is drawn
            assert _close(_pixel(bar, bar.x_of(value), y), DECISION_STYLES[band][0]), band
    # the needle is dark, on top of the band at the score
    needle = _pixel(bar, bar.x_of(score), rect.center().y())
    assert needle.lightness() < 60


@pytest.mark.parametrize(
    ("score", "decision", "shown"),
    [
        (0.4859, "reject", "0.485"),  # plainly rounded: "0.486", below 0.486?
        (0.48612, "refer", "0.486"),
        (0.91987, "accept", "0.920"),  # at or above 0.920
        (0.91949, "refer", "0.919"),
        (0.5, "refer", "0.500"),
        (0.0, "reject", "0.000"),
        (1.0, "accept", "1.000"),
    ],
)
def test_the_score_reads_on_the_side_of_the_thresholds_its_decision_is(score, decision, shown):
    assert shown_score(score, decision, t_accept=0.91987, t_reject=0.4861) == shown


def test_gauge_thresholds_move_the_bands(qtbot):
    gauge = ScoreGauge()
    qtbot.addWidget(gauge)
    gauge.resize(600, 220)
    gauge.show()
    gauge.set_result(0.55, "accept", t_accept=0.5, t_reject=0.2)
    bar = gauge.bar
    y = bar.bar_rect().top() + 4
    assert _close(_pixel(bar, bar.x_of(0.45), y), DECISION_STYLES["refer"][0])
    assert _close(_pixel(bar, bar.x_of(0.65), y), DECISION_STYLES["accept"][0])
    gauge.clear()
    assert gauge.score_text() == "–" and gauge.bar.score is None
    # cleared for the next signature, the bands stay where the thresholds in force put them
    assert _close(_pixel(bar, bar.x_of(0.65), y), DECISION_STYLES["accept"][0])


@pytest.mark.parametrize(
    "t_accept,t_reject,shown",
    [
        (0.7, 0.3, ["0", "1", "0.30", "0.70"]),
        (0.97, 0.36, ["0", "0.36", "0.97"]),  # "1" would run into "0.97"
        (0.9, 0.01, ["1", "0.01", "0.90"]),  # "0" would run into "0.01"
    ],
)
def test_gauge_scale_numbers_never_overlap(qtbot, t_accept, t_reject, shown):
    gauge = ScoreGauge()
    qtbot.addWidget(gauge)
    gauge.resize(400, 220)
    gauge.show()
    gauge.set_result(0.5, "refer", t_accept=t_accept, t_reject=t_reject)
    labels = gauge.bar.scale_labels()
    assert [text for text, _ in labels] == shown
    rects = [rect for _, rect in labels]
    assert not any(a.intersects(b) for i, a in enumerate(rects) for b in rects[i + 1 :])


@pytest.mark.parametrize(
    "width,shown",
    [(1000, ["Reject", "Refer", "Accept"]), (440, ["Reject", "Refer", "✓"])],
)
def test_a_band_too_narrow_for_its_name_carries_its_mark(qtbot, width, shown):
    """The shipped model's accept band, 0.92 to 1, is a few per cent of the bar: a mark,
    not nothing, says what it is (the enrolment strip marks captures the same way)."""
    gauge = ScoreGauge()
    qtbot.addWidget(gauge)
    gauge.resize(width, 220)
    gauge.show()
    gauge.set_result(0.8, "refer", t_accept=0.92, t_reject=0.486)
    bands = gauge.bar.bands()
    assert [text for _, _, text in bands] == shown
    fm = QtGui.QFontMetrics(gauge.bar._label_font())
    assert all(fm.horizontalAdvance(text) < rect.width() for _, rect, text in bands)


# --- views at one scale --------------------------------------------------------------------
def test_pair_shows_both_images_at_the_same_scale(qtbot, signature):
    pair = SignaturePair("Questioned", "Reference")
    qtbot.addWidget(pair)
    pair.resize(900, 400)
    pair.show()
    big = np.pad(signature, 60, constant_values=230)  # a larger scan of the same thing
    pair.set_images(signature, big)
    assert pair.left.effective_scale() == pytest.approx(pair.right.effective_scale())
    # fitted: the larger image just fits its view, the smaller one is not enlarged past it
    fit = pair.right.fit_zoom()
    assert pair.scale_model.zoom == pytest.approx(min(fit, pair.left.fit_zoom()))
    pair.scale_model.zoom_in()
    assert pair.left.effective_scale() == pytest.approx(pair.right.effective_scale())
    assert not pair.scale_model.fitting


def test_views_scale_by_dpi_so_paper_size_matches(qtbot, signature):
    pair = SignaturePair("a", "b")
    qtbot.addWidget(pair)
    pair.set_images(signature, signature, left_dpi=300, right_dpi=600)
    # the same pixels at twice the dpi are half as large on paper
    assert pair.right.effective_scale() == pytest.approx(pair.left.effective_scale() / 2)


def test_empty_view_has_no_image_and_placeholder(qtbot):
    view = SignatureView()
    qtbot.addWidget(view)
    view.set_image(None, placeholder="Nothing yet")
    assert not view.has_image() and view.fit_zoom() is None


def test_numpy_qimage_round_trip(signature):
    image = gray_to_qimage(signature)
    assert (image.width(), image.height()) == (signature.shape[1], signature.shape[0])
    assert np.array_equal(qimage_to_gray(image), signature)
    rgba = QImage(4, 3, QImage.Format.Format_ARGB32)
    rgba.fill(QColor(0, 0, 0, 0))  # fully transparent: paper
    assert (qimage_to_gray(rgba) == 255).all()


# --- thumbnails ----------------------------------------------------------------------------
def test_thumbnail_strip_keys_status_and_selection(qtbot, signature):
    strip = ThumbnailStrip()
    qtbot.addWidget(strip)
    for key in ("a", "b", "c"):
        strip.add(key, signature, f"capture {key}")
    assert strip.keys() == ["a", "b", "c"]
    strip.set_status("b", "problem", "capture b")
    assert strip.caption("b").startswith(STATUS_STYLES["problem"][1])
    assert strip.item(1).font().bold()
    with qtbot.waitSignal(strip.current_key_changed) as changed:
        strip.select("c")
    assert changed.args == ["c"] and strip.current_key() == "c"
    strip.remove("b")
    assert strip.keys() == ["a", "c"]
    strip.clear()
    assert strip.keys() == [] and strip.current_key() is None


# --- the overlay ---------------------------------------------------------------------------
def test_overlay_aligns_and_toggles_to_the_heat_map(qtbot, signature):
    overlay = CompareOverlay()
    qtbot.addWidget(overlay)
    overlay.show()
    canvas = preprocess(signature).canvas
    overlay.set_canvases(canvas, shift_image(canvas, 6, -3))
    assert (overlay.alignment.dx, overlay.alignment.dy) == (-6, 3)
    assert "6 px left" in overlay.alignment_label.text()
    image = overlay.displayed_image()
    assert image.shape == canvas.shape + (3,)
    # aligned: almost no stroke is left in the questioned colour alone
    alone = np.all(image == np.asarray(QUESTIONED_RGB, np.uint8), axis=-1).mean()
    assert alone < 0.002
    assert overlay.legend_heat.isHidden()
    qtbot.mouseClick(overlay.heatmap_button, Qt.MouseButton.LeftButton)
    assert overlay.mode() == HEATMAP and not overlay.legend_heat.isHidden()
    assert not np.array_equal(overlay.displayed_image(), image)
    overlay.set_mode(OVERLAY)
    assert overlay.mode() == OVERLAY
    overlay.clear()
    assert overlay.displayed_image() is None and not overlay.view.has_image()


# --- the capture preview -------------------------------------------------------------------
def test_preview_shows_verdict_reasons_and_what_the_model_sees(qtbot, signature):
    preview = CapturePreview()
    qtbot.addWidget(preview)
    good = inspect_capture(Capture(signature, 300.0, "good.png"))
    preview.show_capture(good)
    assert good.ok and preview.verdict.text().startswith("✓")
    assert preview.canvas_view.has_image() and preview.image_view.box_rect() is not None
    assert "300 dpi" in preview.details.text()

    faint = (255 - (255 - signature) // 8).astype(np.uint8)  # too little contrast
    bad = inspect_capture(Capture(faint, 100.0, "faint.png"))
    preview.show_capture(bad)
    assert not bad.ok and preview.verdict.text().startswith("✗")
    assert "<li>" in preview.reasons.text() and len(bad.reasons) >= 2
    assert "faint.png" in preview.accessibleDescription()

    # a file that says 96 dpi (Windows' default) while the signature is far too long for
    # that: a finer scan, shown and judged as one of unknown resolution
    mislabelled = inspect_capture(Capture(signature, 96.0, "saved-by-paint.png"))
    preview.show_capture(mislabelled)
    assert mislabelled.ok and mislabelled.dpi is None
    assert "resolution not recorded" in preview.details.text()

    blank = inspect_capture(Capture(np.full((100, 300), 255, np.uint8), None, "white"))
    preview.show_capture(blank)
    assert blank.canvas is None and not blank.ok and not preview.canvas_view.has_image()
    preview.show_capture(None)
    assert not preview.image_view.has_image() and preview.verdict.text() == ""


def test_thumbnails_are_drawn_at_the_screen_pixel_density(signature):
    from sigverify_gui.ui.qt import QSize
    from sigverify_gui.ui.thumbnail_strip import thumbnail_pixmap

    sharp = thumbnail_pixmap(signature, QSize(100, 50), "#009E73", dpr=2.0)
    assert (sharp.width(), sharp.height()) == (200, 100)
    assert sharp.deviceIndependentSize().toSize() == QSize(100, 50)
    frame = sharp.toImage().pixelColor(1, 50)
    assert frame.green() > 120 and frame.red() < 40  # the status frame's colour


def _luminance(colour) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(colour.redF())
        + 0.7152 * linear(colour.greenF())
        + 0.0722 * linear(colour.blueF())
    )


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_good_and_bad_status_text_is_readable_in_both_themes(qapp, theme):
    from sigverify_gui.ui.palette import apply_theme, status_text_colour
    from sigverify_gui.ui.qt import QColor, QPalette

    apply_theme(theme)
    try:
        window = _luminance(qapp.palette().color(QPalette.ColorRole.Window))
        for status in ("ok", "problem"):
            text = _luminance(QColor(status_text_colour(status)))
            lighter, darker = max(window, text), min(window, text)
            assert (lighter + 0.05) / (darker + 0.05) >= 4.5, (theme, status)  # WCAG AA
    finally:
        apply_theme("light")


def test_the_decision_labels_are_readable_on_their_colours(qapp):
    for decision, (band, text, _label) in DECISION_STYLES.items():
        lighter, darker = sorted((_luminance(QColor(band)), _luminance(QColor(text))))[::-1]
        assert (lighter + 0.05) / (darker + 0.05) >= 4.5, decision  # WCAG AA, small text


# --- the teller's decision -----------------------------------------------------------------
def _mean_colour(widget) -> tuple[float, float, float]:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8)
    rows = pixels.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    return tuple(rows.reshape(image.height(), image.width(), 3).mean(axis=(0, 1)))


@pytest.fixture
def decision_panel(qtbot):
    from sigverify_gui.ui.verify_result import DecisionPanel

    panel = DecisionPanel()
    qtbot.addWidget(panel)
    panel.resize(600, 160)
    panel.show()
    return panel


def test_the_chosen_decision_stands_out(decision_panel):
    panel = decision_panel
    panel.reset("refer")
    before = {d: _mean_colour(b) for d, b in panel.buttons.items()}
    panel.choose("reject")
    after = {d: _mean_colour(b) for d, b in panel.buttons.items()}
    changed = {d: np.abs(np.subtract(before[d], after[d])).max() for d in before}
    assert changed["reject"] > 40, changed  # filled in the selection colour
    assert changed["accept"] < 2 and changed["refer"] < 2


def test_the_decision_panel_follows_a_switch_to_the_dark_theme(qtbot, decision_panel):
    from sigverify_gui.ui.palette import apply_theme

    panel = decision_panel
    panel.reset("accept")
    try:
        apply_theme("dark")
        qtbot.wait(20)  # the palette change reaches the widgets as events
        panel.choose("reject")
        unchosen = _mean_colour(panel.buttons["accept"])
        chosen = _mean_colour(panel.buttons["reject"])
        assert max(unchosen) < 110, unchosen  # a dark button on the dark window
        assert max(abs(a - b) for a, b in zip(unchosen, chosen, strict=True)) > 40
    finally:
        apply_theme("light")


def test_tab_reaches_every_decision_and_one_stays_chosen(qtbot, decision_panel):
    panel = decision_panel
    panel.reset("accept")
    panel.activateWindow()
    qtbot.mouseClick(panel.buttons["refer"], Qt.MouseButton.LeftButton)
    panel.buttons["accept"].setFocus()
    reached = []
    for _ in range(3):
        reached.append(QApplication.focusWidget())
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    assert reached == [panel.buttons[d] for d in ("accept", "refer", "reject")]
    assert QApplication.focusWidget() is panel.reason
    qtbot.keyClick(panel.buttons["reject"], Qt.Key.Key_Space)  # Space chooses, as a click
    assert panel.chosen() == "reject"
    assert [d for d, b in panel.buttons.items() if b.isChecked()] == ["reject"]
    qtbot.mouseClick(panel.buttons["reject"], Qt.MouseButton.LeftButton)  # again: still chosen
    assert panel.chosen() == "reject"
    # Enter on a chosen decision that overrides the system's goes to the reason first
    recorded = []
    panel.record_requested.connect(lambda *args: recorded.append(args))
    panel.buttons["reject"].setFocus()
    qtbot.keyClick(panel.buttons["reject"], Qt.Key.Key_Return)
    assert recorded == [] and QApplication.focusWidget() is panel.reason
    qtbot.keyClick(panel.buttons["accept"], Qt.Key.Key_Return)  # not chosen: chooses it
    assert panel.chosen() == "accept" and recorded == []
    qtbot.keyClick(panel.buttons["accept"], Qt.Key.Key_Return)  # chosen: records
    assert recorded == [("accept", "")]
