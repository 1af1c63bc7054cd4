"""Synthetic signatures: deterministic, scan-like, and with writers a network can tell apart."""

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from model.datasets import open_dataset
from model.errors import CancelledError, DatasetError
from model.preprocess import preprocess
from model.progress import NullProgress
from model.synth import make_writer, render_forgery, render_genuine, write_dataset
from sigverify_gui.cli import main


def rng(*key: int) -> np.random.Generator:
    return np.random.default_rng(list(key))


# --- writers and single renderings --------------------------------------------------------


def test_writer_is_a_value_fixed_by_its_seed():
    a, b = make_writer(3), make_writer(3)
    assert a == b and hash(a) == hash(b)
    assert a.writer_id == "w0003"
    assert make_writer(3, writer_id="alice").writer_id == "alice"
    assert make_writer(4) != a
    with pytest.raises(AttributeError):
        a.slant_deg = 0.0  # frozen


@pytest.mark.parametrize("render", [render_genuine, render_forgery])
def test_same_random_state_gives_the_same_image(render):
    writer = make_writer(11)
    first = render(writer, rng(5))
    assert np.array_equal(first, render(writer, rng(5)))
    assert not np.array_equal(first, render(writer, rng(6)))


@pytest.mark.parametrize("render", [render_genuine, render_forgery])
def test_grey_scan_shape_and_size(render):
    for seed in range(6):
        img = render(make_writer(seed), rng(seed))
        assert img.dtype == np.uint8 and img.ndim == 2
        h, w = img.shape
        assert 400 <= w <= 1000 and 150 <= h <= 400


@pytest.mark.parametrize("render", [render_genuine, render_forgery])
def test_dark_ink_on_light_paper(render):
    for seed in range(6):
        img = render(make_writer(seed), rng(seed, 1))
        paper = float(np.median(img))
        assert paper > 190
        ink = img < paper - 60
        assert 0.005 < ink.mean() < 0.2  # a signature, not a blank page nor a blot
        assert np.percentile(img, 0.5) < paper - 100  # the strongest strokes are dark
        assert preprocess(img).canvas.max() > 0.5


def test_colour_scan_shows_the_same_strokes_in_the_pen_colour():
    # A writer with a blue pen: blue clearly stronger than red in the ink colour.
    writer = next(w for w in map(make_writer, range(50)) if w.ink_rgb[2] > w.ink_rgb[0] + 50)
    grey = render_genuine(writer, rng(8))
    colour = render_genuine(writer, rng(8), color=True)
    assert colour.dtype == np.uint8 and colour.shape == (*grey.shape, 3)
    as_grey = cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY).astype(float)
    assert np.abs(as_grey - grey).mean() < 4  # same strokes, paper and noise
    ink = grey < np.median(grey) - 80
    r, _, b = (colour[..., k][ink].astype(float).mean() for k in range(3))
    assert b > r + 25


# --- what a network has to learn ----------------------------------------------------------


def _features(img: np.ndarray) -> np.ndarray:
    # The network's input, blurred a little so that a 1-px shift is not a difference.
    canvas = cv2.GaussianBlur(preprocess(img).canvas, (0, 0), 2.0)
    return canvas / np.linalg.norm(canvas)


def test_writers_differ_more_than_one_writers_signatures_and_forgeries_sit_between():
    n = 6
    genuine, forged = {}, {}
    for w in range(n):
        writer = make_writer(100 + w)
        genuine[w] = [_features(render_genuine(writer, rng(w, 0, i))) for i in range(3)]
        forged[w] = [_features(render_forgery(writer, rng(w, 1, i))) for i in range(2)]

    def dist(a, b):
        return float(np.linalg.norm(a - b))

    same = {w: np.mean([dist(genuine[w][i], genuine[w][j]) for i, j in ((0, 1), (0, 2), (1, 2))])
            for w in range(n)}  # fmt: skip
    other = {w: np.mean([dist(genuine[w][0], genuine[v][0]) for v in range(n) if v != w])
             for w in range(n)}  # fmt: skip
    fake = {w: np.mean([dist(g, f) for g in genuine[w] for f in forged[w]]) for w in range(n)}
    for w in range(n):
        assert same[w] < other[w], w
    mean = {name: np.mean(list(d.values())) for name, d in (("same", same), ("other", other),
                                                            ("fake", fake))}  # fmt: skip
    assert mean["same"] < mean["fake"] < mean["other"], mean


# --- data sets ----------------------------------------------------------------------------


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.png"))}


def test_write_dataset_layout_and_reader(tmp_path):
    ids = write_dataset(tmp_path / "set", writers=2, genuine=3, forged=2, seed=4)
    assert ids == ["w0001", "w0002"]
    assert sorted(_files(tmp_path / "set")) == [
        f"{w}/{kind}/{w}_{tag}_{n:02d}.png"
        for w in ids
        for kind, tag, count in (("forged", "f", 2), ("genuine", "g", 3))
        for n in range(1, count + 1)
    ]
    dataset = open_dataset(tmp_path / "set")
    assert dataset.layout == "generic"
    assert [(w.writer, len(w.genuine), len(w.forged)) for w in dataset.writers] == [
        ("w0001", 3, 2),
        ("w0002", 3, 2),
    ]
    img = cv2.imread(str(dataset.writers[0].forged[0]), cv2.IMREAD_UNCHANGED)
    assert img.ndim == 2 and img.dtype == np.uint8


def test_write_dataset_is_byte_identical_per_seed_and_stable_when_growing(tmp_path):
    write_dataset(tmp_path / "a", writers=2, genuine=2, forged=1, seed=7)
    write_dataset(tmp_path / "b", writers=2, genuine=2, forged=1, seed=7)
    write_dataset(tmp_path / "c", writers=2, genuine=3, forged=0, seed=7)
    write_dataset(tmp_path / "d", writers=2, genuine=2, forged=1, seed=8)
    a, c = _files(tmp_path / "a"), _files(tmp_path / "c")
    assert a == _files(tmp_path / "b")
    # more genuine samples and no forgeries: the shared files are unchanged
    assert {k: v for k, v in a.items() if "genuine" in k}.items() <= c.items()
    assert not (tmp_path / "c" / "w0001" / "forged").exists()
    assert set(a.values()).isdisjoint(_files(tmp_path / "d").values())


def test_write_dataset_reports_progress_and_can_be_cancelled(tmp_path):
    class Recorder(NullProgress):
        def __init__(self):
            super().__init__()
            self.calls = []

        def update(self, done, total, text=""):
            super().update(done, total, text)
            self.calls.append((done, total))
            if done == 2:
                self.cancel()

    recorder = Recorder()
    with pytest.raises(CancelledError):
        write_dataset(tmp_path / "set", writers=2, genuine=2, forged=1, progress=recorder)
    assert recorder.calls == [(0, 6), (1, 6), (2, 6)]


@pytest.mark.parametrize(
    ("writers", "genuine", "forged", "seed", "message"),
    [
        (0, 1, 0, 0, "writers"),
        (1, 0, 0, 0, "genuine"),
        (1, 1, -1, 0, "forgeries"),
        (1, 1, 0, -3, "seed"),
        (100_000_000, 12, 6, 0, "1,800,000,000 images, more than a synthetic set needs"),
    ],
)
def test_write_dataset_refuses_bad_counts(tmp_path, writers, genuine, forged, seed, message):
    with pytest.raises(DatasetError, match=message):
        write_dataset(tmp_path / "set", writers, genuine, forged, seed)
    assert not (tmp_path / "set").exists()


def test_write_dataset_needs_a_new_or_empty_folder(tmp_path):
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="is a file"):
        write_dataset(tmp_path / "file.png", 1, 1, 0)
    with pytest.raises(DatasetError, match="already holds files"):
        write_dataset(tmp_path, 1, 1, 0)
    (tmp_path / "empty").mkdir()
    assert write_dataset(tmp_path / "empty", 1, 1, 0) == ["w0001"]


# --- `sigverify synth` --------------------------------------------------------------------


def test_cli_writes_the_layout_and_a_json_summary(tmp_path, capsys):
    out = tmp_path / "synth"
    args = ["synth", str(out), "--writers", "2", "--genuine", "2", "--forged", "1"]
    assert main([*args, "--seed", "3", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"out": str(out), "writers": 2, "genuine": 4, "forged": 2}
    assert "6/6" in captured.err  # progress on stderr, stdout stays pure JSON
    assert len(list(out.glob("w*/genuine/*.png"))) == 4
    assert len(list(out.glob("w*/forged/*.png"))) == 2

    assert main(["synth", str(tmp_path / "plain"), "--writers", "1", "--genuine", "1"]) == 0
    assert "Wrote 1 writer: 1 genuine signature and 6 forgeries, in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "extra",
    [["--forged", "-1"], ["--writers", "-2"], ["--genuine", "0"], ["--seed", "-1"]],
)
def test_cli_bad_counts_exit_2(tmp_path, capsys, extra):
    assert main(["synth", str(tmp_path / "out"), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ") and "Traceback" not in captured.err


def test_cli_refuses_a_file_or_a_folder_with_files(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("keep me")
    assert main(["synth", str(tmp_path / "x.txt"), "--writers", "1", "--genuine", "1"]) == 2
    assert main(["synth", str(tmp_path), "--writers", "1", "--genuine", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 2
    assert (tmp_path / "x.txt").read_text() == "keep me"
