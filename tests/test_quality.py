"""The capture quality check, and the `quality`, `preprocess` and `bench` commands."""

import json

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from model.bench import cheque_scan, compose, draw_signature, paper
from model.errors import BlankImageError, ImageError
from model.imageio import load_image
from model.preprocess import MIN_IMAGE_SIDE, PREPROCESS_VERSION, analyse_ink, ink_box, preprocess
from model.quality import MESSAGES, QualityReport, check_quality
from tests.cli_errors import assert_refused_option, run_cli


def _scan(
    hw=(850, 1800), sig_hw=(380, 1100), at=(330, 300), ink=45.0, pen_px=4.0, seed=1
) -> np.ndarray:
    rng = np.random.default_rng(seed)
    page = paper(rng, hw)
    compose(page, draw_signature(rng, sig_hw[1], sig_hw[0], pen_px), at, ink)
    return np.clip(page, 0, 255).astype(np.uint8)


def _print_lines(image: np.ndarray, lines: list[str], x: int, y: int, step: int) -> None:
    # ~10 pt type at 300 dpi: capitals about 30 px tall
    for i, line in enumerate(lines):
        pos = (x, y + i * step)
        cv2.putText(image, line, pos, cv2.FONT_HERSHEY_SIMPLEX, 1.3, 40, 2, cv2.LINE_AA)


# --- verdicts on realistic captures ---------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_clean_cheque_scan_passes(seed):
    report = check_quality(cheque_scan(seed), dpi=300)
    assert report.ok, report.messages
    assert report.problems == () and report.messages == ()
    x, y, w, h = report.box
    # the signature is drawn at x 330..1430, y 300..680; the printed rule at y 700 is not ink
    assert 330 <= x < 450 and 300 <= y < 420 and x + w <= 1430 and y + h < 695
    assert report.contrast > 150
    assert 0.005 < report.ink_fraction < 0.05


def test_synthetic_signatures_pass():
    from model.synth import make_writer, render_forgery, render_genuine

    for seed in range(3):
        writer = make_writer(seed)
        rng = np.random.default_rng(seed)
        for image in (render_genuine(writer, rng), render_genuine(writer, rng, color=True)):
            report = check_quality(image)
            assert report.ok, (seed, report.problems)
        assert check_quality(render_forgery(writer, rng)).ok


def test_blank_page_is_blank():
    rng = np.random.default_rng(0)
    report = check_quality(np.clip(paper(rng, (850, 1800)), 0, 255).astype(np.uint8), 300)
    assert report.problems == ("blank",)
    assert report.messages == (MESSAGES["blank"],)
    assert report.box is None and report.ink_fraction == 0.0 and not report.ok


def test_ruled_line_alone_is_blank():
    page = np.full((850, 1800), 232, np.uint8)
    cv2.line(page, (120, 700), (1680, 700), 70, 3, cv2.LINE_AA)
    assert check_quality(page).problems == ("blank",)


def test_faint_ink_is_low_contrast():
    report = check_quality(_scan(ink=180.0), dpi=300)  # pencil-grey on 232 paper
    assert "low_contrast" in report.problems
    assert report.contrast < 60
    assert check_quality(_scan(ink=120.0), dpi=300).problems == ()  # a blue ballpoint is fine


@pytest.mark.parametrize(
    ("crop", "side"),
    [
        ((slice(None), slice(0, 1000)), "right"),
        ((slice(None), slice(700, None)), "left"),
        ((slice(450, None), slice(None)), "top"),
    ],
)
def test_signature_cut_by_the_edge_is_cut_off(crop, side):
    report = check_quality(cheque_scan(0)[crop], dpi=300)
    assert report.problems == ("cut_off",)
    assert f"the {side} edge" in report.messages[0]


def test_cut_on_both_sides_names_both():
    report = check_quality(cheque_scan(0)[:, 700:1000], dpi=300)
    assert report.problems == ("cut_off",)
    assert "the left and right edges" in report.messages[0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_image_cropped_tight_to_the_signature_is_not_cut_off(seed):
    """Core banking systems store signature images cropped to the ink."""
    scan = cheque_scan(seed)
    ink = analyse_ink(scan)
    x, y, w, h = (v * ink.factor for v in ink_box(ink.mask))
    report = check_quality(scan[y : y + h, x : x + w], dpi=300)
    assert report.ok, report.messages
    assert report.box[2] >= w - 2 * ink.factor and report.box[3] >= h - 2 * ink.factor


def test_tiny_signature_is_too_small():
    tiny = _scan(sig_hw=(40, 110), at=(800, 400), pen_px=1.5)
    report = check_quality(tiny, dpi=300)
    assert report.problems == ("too_small",)
    assert report.box[2] < 150


def test_size_rules_scale_with_dpi():
    # 280 px wide: a fine signature at 300 dpi, less than an inch at 600 dpi
    small = _scan(hw=(600, 900), sig_hw=(100, 280), at=(300, 250), pen_px=2.0)
    assert check_quality(small, dpi=300).problems == ()
    assert check_quality(small, dpi=None).problems == ()  # unknown: assume 300
    assert "too_small" in check_quality(small, dpi=600).problems


def test_a_few_marks_are_too_little_ink():
    page = np.full((850, 1800), 232, np.uint8)
    cv2.line(page, (400, 400), (480, 415), 50, 2, cv2.LINE_AA)  # a short tick
    cv2.circle(page, (700, 380), 3, 50, -1)  # and a dot
    assert check_quality(page, dpi=300).problems == ("too_little_ink",)


def test_a_software_default_dpi_on_a_finer_scan_is_taken_as_unrecorded():
    # 900 px of signature: 9.4 inches at the 96 dpi Windows writes, 3 at the scan's 300
    report = check_quality(cheque_scan(0), dpi=96)
    assert report.ok and report.dpi is None
    assert check_quality(cheque_scan(0), dpi=72.0).dpi is None
    # at a size a 96-dpi scan of a signature has (2.5 inches), 96 dpi is believed
    small = cv2.resize(cheque_scan(0), None, fx=0.27, fy=0.27, interpolation=cv2.INTER_AREA)
    report = check_quality(small, dpi=96)
    assert "low_resolution" in report.problems and report.dpi == 96.0


def test_low_dpi_is_low_resolution():
    report = check_quality(cheque_scan(0), dpi=100)
    assert report.problems == ("low_resolution",)
    assert report.dpi == 100.0
    assert check_quality(cheque_scan(0), dpi=150).ok


def test_printed_text_and_signature_is_cluttered():
    page = cheque_scan(1).copy()
    _print_lines(
        page,
        [
            "PAY TO THE ORDER OF ACME SUPPLIES LTD",
            "FIVE HUNDRED AND TWENTY DOLLARS ONLY",
            "MEMO: INVOICE 2024-117 DELIVERED GOODS",
        ],
        x=80,
        y=80,
        step=70,
    )
    report = check_quality(page, dpi=300)
    assert report.problems == ("cluttered",)
    assert report.n_components > 60


def test_printed_name_under_the_signature_is_cluttered():
    page = cheque_scan(1).copy()
    _print_lines(page, ["J. R. HARTLEY"], x=600, y=790, step=0)
    assert check_quality(page, dpi=300).problems == ("cluttered",)


def test_thick_marker_signature_is_fine():
    rng = np.random.default_rng(0)
    page = paper(rng, (420, 760))
    compose(page, draw_signature(rng, 700, 380, pen_px=30), (30, 20), 40.0)
    assert check_quality(np.clip(page, 0, 255).astype(np.uint8)).ok


def test_ink_over_much_of_the_image_is_cluttered():
    # Cross-hatching over the whole scan (a patterned surface, a printed picture): one
    # connected piece of ink, so only the share of ink can tell it is not a signature.
    page = np.full((600, 900), 232, np.uint8)
    for offset in range(-900, 900, 30):
        cv2.line(page, (offset, 0), (offset + 600, 600), 40, 3)
        cv2.line(page, (offset + 600, 0), (offset, 600), 40, 3)
    report = check_quality(page)
    assert "cluttered" in report.problems
    assert report.ink_fraction > 0.3 and report.n_components < 60


def test_colour_and_16_bit_scans_give_the_grey_verdict():
    gray = cheque_scan(0)
    reference = check_quality(gray, 300)
    for variant in (np.repeat(gray[..., None], 3, axis=2), gray.astype(np.uint16) * 257):
        report = check_quality(variant, 300)
        assert report.problems == reference.problems and report.box == reference.box


def _black_and_white(gray: np.ndarray) -> np.ndarray:
    return np.where(gray < 128, 0, 255).astype(np.uint8)


def _jpeg(gray: np.ndarray, quality: int = 75) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_black_and_white_scans_are_told_from_greyscale_ones(seed):
    from model.synth import render_samples

    (grey,) = render_samples(seed, 1)  # a pen's graded ink, as a greyscale scan has it
    assert check_quality(grey, 300).ink_tones == "grey"
    assert check_quality(_jpeg(grey), 300).ink_tones == "grey"
    bilevel = _black_and_white(grey)
    assert check_quality(bilevel, 300).ink_tones == "bilevel"
    # a scanner's black-and-white JPEG: compression spreads the one ink tone a little
    assert check_quality(_jpeg(bilevel), 300).ink_tones == "bilevel"
    assert check_quality(_jpeg(bilevel, quality=50), 300).ink_tones == "bilevel"
    assert check_quality(_jpeg(grey, quality=40), 300).ink_tones == "grey"
    # ink of one tone on grainy paper is still a greyscale scan
    assert check_quality(cheque_scan(seed), 300).ink_tones == "grey"


def test_a_blank_image_has_no_ink_tones():
    blank = np.clip(paper(np.random.default_rng(0), (400, 800)), 0, 255).astype(np.uint8)
    assert check_quality(blank, 300).ink_tones == ""


def test_report_to_dict_is_plain_json():
    data = check_quality(cheque_scan(0)[:, :1000], dpi=300).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["problems"] == ["cut_off"] and len(data["box"]) == 4


# --- never crashes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((850, 1800), np.uint8),
        np.full((850, 1800), 255, np.uint8),
        np.zeros((50, 80), np.uint8),
        np.zeros((0, 5), np.uint8),
        np.zeros((40, 40, 2), np.uint8),
    ],
    ids=["black", "white", "small-black", "empty", "2-channel"],
)
def test_degenerate_images_are_blank(image):
    assert check_quality(image).problems == ("blank",)


def _strip_of_ink(h: int, w: int) -> np.ndarray:
    """An image of `h` x `w` pixels with a dark bar across a third of its height and
    two fifths of its width, as a signature's ink: its second half a bar's height lower,
    since a straight bar as wide as all the ink is a printed line (pp5)."""
    strip = np.full((h, w), 250, np.uint8)
    top, bar, left, width = h // 3, max(1, h // 3), w // 4, w * 2 // 5
    strip[top : top + bar, left : left + width // 2] = 20
    strip[top + bar : top + 2 * bar, left + width // 2 : left + width] = 20
    return strip


@pytest.mark.parametrize(
    ("image", "size"),
    [
        (np.full((1, 1), 255, np.uint8), "1 x 1 pixels"),
        (np.zeros((1, 300), np.uint8), "300 x 1 pixels"),
        (np.full((300, 1), 255, np.uint8), "1 x 300 pixels"),
        (_strip_of_ink(3, 40), "40 x 3 pixels"),  # ink, but a strip of it
    ],
    ids=["1x1", "1xN", "Nx1", "3x40-inked"],
)
def test_an_image_too_small_to_hold_a_signature_says_so_with_its_size(image, size):
    report = check_quality(image, dpi=300)
    assert report.problems == ("image_too_small",)
    assert report.messages == (
        f"The image is only {size}, too small to hold a signature; scan the whole signature.",
    )
    with pytest.raises(ImageError, match=f"^The image is only {size}, too small") as refused:
        preprocess(image)
    assert not isinstance(refused.value, BlankImageError)


def test_an_image_one_pixel_lower_than_the_smallest_signature_is_too_small():
    low, lowest_usable = _strip_of_ink(MIN_IMAGE_SIDE - 1, 600), _strip_of_ink(MIN_IMAGE_SIDE, 600)
    assert check_quality(low, dpi=300).problems == ("image_too_small",)
    report = check_quality(lowest_usable, dpi=300)
    assert "image_too_small" not in report.problems and report.box is not None
    assert preprocess(lowest_usable).box is not None


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    hnp.arrays(np.uint8, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=80)),
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
)
def test_any_array_gives_a_report(image, dpi):
    report = check_quality(image, dpi)
    assert isinstance(report, QualityReport)
    assert report.ok == (not report.problems)
    assert len(report.messages) == len(report.problems)
    assert set(report.problems) <= set(MESSAGES)
    assert 0.0 <= report.ink_fraction <= 1.0 and 0.0 <= report.contrast <= 255.0
    if report.box is not None:
        x, y, w, h = report.box
        assert x >= 0 and y >= 0 and x + w <= image.shape[1] and y + h <= image.shape[0]
    json.dumps(report.to_dict())


def test_component_count_survives_more_pieces_than_16_bit_labels_hold():
    from model.quality import _components

    dots = np.zeros((600, 600), np.uint8)
    dots[::2, ::2] = 1
    assert _components(dots)[0] == 300 * 300 + 1


@pytest.mark.parametrize("value", [0, 255, 17])
def test_constant_images_are_blank(value):
    for shape in [(MIN_IMAGE_SIDE, MIN_IMAGE_SIDE), (20, 70), (200, 400)]:
        assert check_quality(np.full(shape, value, np.uint8)).problems == ("blank",)


# --- the commands ------------------------------------------------------------------------


@pytest.fixture
def cli(monkeypatch):
    """`sigverify ...` in-process with only this file's commands registered, so that
    these tests do not depend on the other commands."""
    from sigverify_gui import cli as cli_module

    monkeypatch.setattr(cli_module, "COMMAND_MODULES", ["quality", "preprocess", "bench"])
    return cli_module.main


def _save(path, gray, dpi=300):
    Image.fromarray(gray).save(path, dpi=(dpi, dpi))
    return str(path)


def test_quality_command_json(cli, tmp_path, capsys):
    image = _save(tmp_path / "cut.png", cheque_scan(0)[:, :1000])
    assert cli(["quality", image, "--json"]) == 0  # a verdict, not a failure
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False and data["problems"] == ["cut_off"]
    assert data["file"] == image and data["dpi"] == pytest.approx(300, abs=0.5)
    assert len(data["box"]) == 4 and data["messages"][0].startswith("The signature touches")
    assert {"ink_fraction", "contrast"} <= data.keys()


def test_quality_command_human(cli, tmp_path, capsys):
    assert cli(["quality", _save(tmp_path / "ok.png", cheque_scan(0))]) == 0
    assert capsys.readouterr().out.strip() == "OK"
    assert cli(["quality", _save(tmp_path / "low.png", cheque_scan(0), dpi=100)]) == 0
    assert capsys.readouterr().out.strip() == (
        "The scan resolution (100 dpi) is too low; rescan at 300 dpi (150 at the least)."
    )


def test_quality_and_preprocess_say_which_page_of_several_they_read(cli, tmp_path, capsys):
    path = tmp_path / "two.tif"
    first, second = Image.fromarray(cheque_scan(0)), Image.fromarray(cheque_scan(1))
    first.save(path, save_all=True, append_images=[second], dpi=(300, 300))
    assert cli(["quality", str(path), "--page", "2"]) == 0
    assert capsys.readouterr().out.strip() == "Page 2 of 2: OK"
    assert cli(["quality", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pages"] == 2
    assert cli(["preprocess", str(path), "-o", str(tmp_path / "c.png")]) == 0
    assert capsys.readouterr().out.strip().endswith("on page 1 of 2")
    assert cli(["quality", str(path), "--page", "0"]) == 2
    assert "of 1 or more, not '0'" in capsys.readouterr().err


def test_quality_command_unreadable_file(cli, tmp_path, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"this is not an image")
    assert cli(["quality", str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err


def test_preprocess_command_writes_canvas_and_mask(cli, tmp_path, capsys):
    scan = cheque_scan(0)
    out, mask = tmp_path / "canvas.png", tmp_path / "mask.png"
    argv = ["preprocess", _save(tmp_path / "in.png", scan), "-o", str(out), "--mask", str(mask)]
    assert cli([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == PREPROCESS_VERSION and data["out"] == str(out)
    canvas = np.asarray(Image.open(out))
    assert canvas.dtype == np.uint8 and list(canvas.shape) == data["canvas"]
    assert canvas.max() == 255 and (canvas == 0).mean() > 0.5  # white ink on black
    ink = np.asarray(Image.open(mask))
    assert ink.shape == scan.shape and set(np.unique(ink)) == {0, 255}
    x, y, w, h = data["box"]
    assert ink[:y].max() == 0 and ink[y + h :].max() == 0


def test_preprocess_command_blank_image_is_a_user_error(cli, tmp_path, capsys):
    blank = _save(tmp_path / "blank.png", np.full((300, 500), 235, np.uint8))
    assert cli(["preprocess", blank, "-o", str(tmp_path / "out.png")]) == 2
    assert capsys.readouterr().err.startswith("error: No signature")
    assert not (tmp_path / "out.png").exists()


@pytest.mark.parametrize(
    ("out", "mask", "message"),
    [
        ("canvas.jpg", None, "must be a .png file"),
        ("canvas.png", "no-such-folder/mask.png", "the folder does not exist"),
        ("in.png", None, "this command reads it too"),
        ("canvas.png", "canvas.png", "this command writes it too"),
    ],
)
def test_preprocess_command_refuses_a_bad_target_and_writes_nothing(
    cli, tmp_path, capsys, out, mask, message
):
    argv = ["preprocess", _save(tmp_path / "in.png", cheque_scan(0)), "-o", str(tmp_path / out)]
    argv += ["--mask", str(tmp_path / mask)] if mask else []
    assert cli(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.png"]
    assert load_image(tmp_path / "in.png").gray.shape == cheque_scan(0).shape[:2]


def test_bench_command(cli, capsys):
    assert cli(["bench", "--only", "preprocess", "--repeat", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["device"].startswith("cpu") and data["repeat"] == 3
    assert 0 < data["preprocess_ms"] < 1000 and 0 < data["quality_ms"] < 1000
    assert cli(["bench", "--only", "preprocess", "--repeat", "2"]) == 0
    figures = dict(line.split()[:2] for line in capsys.readouterr().out.splitlines()[-2:])
    assert float(figures["preprocess_ms"]) > 0 and float(figures["quality_ms"]) > 0
    assert cli(["bench", "--only", "nonsense"]) == 2
    assert "nonsense" in capsys.readouterr().err


def test_bench_help_names_every_figure_group_it_runs(cli, capsys):
    import model.bench_model  # noqa: F401  (importing registers the groups)
    import sigverify_gui.services.bench  # noqa: F401
    from model.bench import BENCHMARKS
    from sigverify_gui.cli.commands.bench import FIGURE_GROUPS

    assert set(FIGURE_GROUPS) == set(BENCHMARKS)
    assert cli(["bench", "--help"]) == 0
    assert ", ".join(FIGURE_GROUPS) in " ".join(capsys.readouterr().out.split())


@pytest.mark.slow
def test_bench_times_the_bundled_model_against_signet_in_the_same_rounds(cli, capsys):
    assert cli(["bench", "--only", "model", "--repeat", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["engine"] == "torch" and data["model_id"].startswith("sv-")
    for key in ("embed_ms", "texture_ms", "verify_ms", "embed_per_s", "reference_signet_per_s"):
        assert data[key] > 0, key
    assert data["throughput_ratio"] > 0  # how it is made: the test below


def test_the_throughput_ratio_compares_each_round_with_itself():
    # The median of the rounds' own ratios (3, 1, 3), not the ratio of the medians
    # (3 / 2): load that hits one round slows both its halves. (Held against the ratio
    # of the medians on the machine itself, the check was at the mercy of other jobs'
    # load, and once failed.)
    from model.bench_model import paired_ratio

    assert paired_ratio([1.0, 2.0, 3.0], [3.0, 2.0, 9.0]) == 3.0
    assert paired_ratio([4.0], [1.0]) == 0.25


@pytest.mark.parametrize("repeat", ["0", "-3", "two"])
def test_bench_command_refuses_a_repeat_below_one(cli, capsys, monkeypatch, repeat):
    # It used to run the default 30 repeats instead: nothing may be timed at all.
    monkeypatch.setattr("model.bench.run_benchmarks", lambda *a, **k: pytest.fail("benchmarked"))
    code, out, err = run_cli(cli, capsys, "bench", "--only", "preprocess", "--repeat", repeat)
    assert_refused_option(code, err, "--repeat", repeat)
    assert out == ""


# --- print beside the signature, in its own rows ----------------------------------------
def _caption(image: np.ndarray, text: str, at: tuple[int, int], cap_px: int, font: str) -> None:
    """Print `text` with its baseline's left end at `at`, capitals `cap_px` tall."""
    if font == "hershey":
        scale = cap_px / cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1)[0][1]
        thickness = max(1, round(cap_px / 12))
        cv2.putText(image, text, at, cv2.FONT_HERSHEY_SIMPLEX, scale, 40, thickness, cv2.LINE_AA)
    else:  # Pillow's own font: the look of a laser printer's type, not a plotter's
        from PIL import ImageDraw, ImageFont

        picture = Image.fromarray(image)
        font_px = ImageFont.load_default(size=round(cap_px * 1.4))
        ImageDraw.Draw(picture).text(at, text, fill=40, font=font_px, anchor="ls")
        image[:] = np.asarray(picture)


@pytest.mark.parametrize("font", ["hershey", "pillow"])
@pytest.mark.parametrize("where", ["left", "right"])
def test_a_caption_in_the_signatures_rows_is_cluttered(font, where):
    # Beside the signature, in the rows its ink spans: no row of text of its own, no
    # more pieces than a signature may have, yet the crop would hold both.
    page = _scan(hw=(700, 2000), sig_hw=(300, 800), at=(100 if where == "right" else 1100, 200))
    x = 1000 if where == "right" else 80
    _caption(page, "Authorised signature", (x, 360), 30, font)
    report = check_quality(page, dpi=300)
    assert report.problems == ("cluttered",), report
    assert report.n_components <= 60


@pytest.mark.parametrize("where", ["above", "below"])
def test_a_caption_on_a_large_scan_is_read_at_full_size(where):
    # Shrunk to the quality check's working size the caption's letters run together
    # into a few blobs; read at full size they are a row of print.
    page = _scan(hw=(1400, 2800), sig_hw=(300, 800), at=(1000, 500))
    _caption(
        page,
        "Signature of the account holder",
        (1000, 460 if where == "above" else 880),
        22,
        "pillow",
    )
    assert analyse_ink(page).factor > 1
    assert check_quality(page, dpi=300).problems == ("cluttered",)


def test_a_signature_without_print_on_a_large_scan_passes():
    page = _scan(hw=(1400, 2800), sig_hw=(300, 800), at=(1000, 500))
    assert check_quality(page, dpi=300).ok


def test_dust_in_a_row_is_not_print():
    # Specks as level as print, but smaller than any type: pencil grain, a dusty glass.
    page = _scan(hw=(700, 1600), sig_hw=(300, 800), at=(300, 150))
    for k in range(10):
        cv2.circle(page, (300 + 60 * k, 560), 3, 60, -1)
    assert check_quality(page, dpi=300).ok


def test_a_signature_written_through_its_line_is_not_taken_for_print():
    # Cut from a cheque by the page search, a cursive signature written through its
    # printed line: the line is taken out, and the letters it cut sit level along it,
    # as printed glyphs do. Such edges are no evidence of print (as in the page search).
    from model.pages import make_page, make_scribble_signature
    from sigverify_gui.services.captures import signature_from_page

    rng = np.random.default_rng(1014)
    page = make_page(make_scribble_signature(rng), rng, kind="cheque")
    cut, _ = signature_from_page(page.image, 300.0)
    assert check_quality(cut.gray, cut.dpi).ok
