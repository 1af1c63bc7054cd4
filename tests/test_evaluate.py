"""The evaluation protocol on a tiny data set whose every score is known in advance."""

import json

import numpy as np
import pytest

from model import evaluate
from model.datasets import open_dataset
from model.errors import BlankImageError, CancelledError, DatasetError, UnsupportedFormatError
from model.progress import NullProgress
from tests.cli_errors import (
    assert_refused_option,
    assert_user_error,
    cli_with,
    files_under,
    run_cli,
)

# What the fake model scores a query against a writer's references:
SKILLED_SCORE = {1: 0.3, 2: 0.5, 3: 0.7, 4: 0.9}  # its forgeries, by image number


def _genuine_score(number: int) -> float:  # its own genuine queries: g6 .85, g7 .86, ...
    return 0.79 + number / 100


def _random_score(number: int) -> float:  # another writer's genuine image: g6 .06, ...
    return number / 100


def make_dataset(root, genuine_counts, forged=4):
    """Generic layout: <writer>/genuine/g<n>.png and <writer>/forged/f<n>.png."""
    for writer, count in genuine_counts.items():
        (root / writer / "genuine").mkdir(parents=True)
        for n in range(1, count + 1):
            (root / writer / "genuine" / f"g{n}.png").write_bytes(b"")
        if forged:
            (root / writer / "forged").mkdir()
            for n in range(1, forged + 1):
                (root / writer / "forged" / f"f{n}.png").write_bytes(b"")
    return open_dataset(root, "generic")


class FakeModel:
    """embed: a path -> [writer number, forged?, image number]; score: by the tables above."""

    def __init__(self):
        self.embed_calls = []
        self.refs_seen = {}

    def embed(self, paths):
        self.embed_calls.append(list(paths))
        rows = [
            [int(p.parent.parent.name[1:]), p.parent.name == "forged", int(p.stem[1:])]
            for p in paths
        ]
        return np.array(rows, dtype=np.float32)

    def score(self, refs, queries):
        assert len(set(refs[:, 0])) == 1, "references from more than one writer"
        writer = int(refs[0, 0])
        self.refs_seen[writer] = sorted(int(n) for n in refs[:, 2])
        out = []
        for owner, forged, number in queries.astype(int):
            if owner != writer:
                assert not forged, "a forgery used as a random forgery"
                out.append(_random_score(number))
            else:
                out.append(SKILLED_SCORE[number] if forged else _genuine_score(number))
        return np.array(out, dtype=np.float32)


@pytest.fixture
def three_writers(tmp_path):
    return make_dataset(tmp_path, {"w1": 7, "w2": 7, "w3": 7})


def test_protocol_splits_and_scores(three_writers):
    model = FakeModel()
    scores = evaluate.score_protocol(three_writers, model.embed, model.score, refs=5)

    # embed once, every distinct image exactly once: 3 writers x (7 genuine + 4 forged)
    assert len(model.embed_calls) == 1
    assert len(model.embed_calls[0]) == len(set(model.embed_calls[0])) == 33
    # references are each writer's first five genuine images
    assert model.refs_seen == {1: [1, 2, 3, 4, 5], 2: [1, 2, 3, 4, 5], 3: [1, 2, 3, 4, 5]}
    for w in ("w1", "w2", "w3"):
        np.testing.assert_allclose(scores.genuine[w], [0.85, 0.86], rtol=1e-6)
        np.testing.assert_allclose(scores.skilled[w], [0.3, 0.5, 0.7, 0.9], rtol=1e-6)
        # the two genuine queries (images 6 and 7) of each of the two other writers
        np.testing.assert_allclose(scores.random[w], [0.06, 0.07, 0.06, 0.07], rtol=1e-6)
    assert scores.n_skipped_writers == 0


def test_summary_figures(three_writers):
    model = FakeModel()
    scores = evaluate.score_protocol(three_writers, model.embed, model.score, refs=5)
    report = evaluate.summarize(scores, t_accept=0.855, t_reject=0.6)

    assert report["n_writers"] == 3
    assert (report["n_genuine"], report["n_skilled"], report["n_random"]) == (6, 12, 12)
    # genuine .85/.86 against skilled .3/.5/.7/.9 (ROC worked out in test_metrics' style):
    #   t    .3   .5   .7   .85  .86  .9
    #   FAR  1    3/4  1/2  1/4  1/4  1/4
    #   FRR  0    0    0    0    1/2  1
    # crossing halfway between .85 and .86: EER 1/4 at .855; every writer alike.
    assert report["eer_skilled"] == pytest.approx(0.25)
    assert report["eer_threshold_skilled"] == pytest.approx(0.855, abs=1e-6)
    assert report["eer_skilled_user"] == pytest.approx(0.25)
    assert report["auc_skilled"] == pytest.approx(0.75)  # each genuine beats 3 of 4
    # random forgeries (.06/.07) are all below every genuine score
    assert report["eer_random"] == 0.0
    assert report["eer_random_user"] == 0.0
    assert report["auc_random"] == 1.0
    # at t_accept: the .9 forgeries pass (3 of 12), the .85 genuine do not (3 of 6);
    # at t_reject: no genuine is rejected outright
    assert report["far_skilled"] == pytest.approx(0.25)
    assert report["far_random"] == 0.0
    assert report["frr_accept"] == pytest.approx(0.5)
    assert report["frr"] == 0.0
    low, high = report["eer_skilled_ci95"]  # every writer alike: no spread to resample
    assert low == pytest.approx(0.25, abs=1e-3) and high == pytest.approx(0.25, abs=1e-3)
    json.dumps(report)  # plain JSON values only


def test_writers_with_too_few_genuine_are_skipped(tmp_path):
    dataset = make_dataset(tmp_path, {"w1": 7, "w2": 5, "w3": 7})
    model = FakeModel()
    scores = evaluate.score_protocol(dataset, model.embed, model.score, refs=5)
    report = evaluate.summarize(scores, t_accept=0.8, t_reject=0.5)

    assert sorted(scores.genuine) == ["w1", "w3"]
    assert report["n_skipped_writers"] == 1
    assert report["n_writers"] == 2
    # w2 is not embedded at all, and so not used as a random forgery either
    assert not any("w2" in p.parts for p in model.embed_calls[0])
    assert (report["n_genuine"], report["n_skilled"], report["n_random"]) == (4, 8, 4)


def test_random_forgeries_subsampled_deterministically(tmp_path):
    dataset = make_dataset(tmp_path, {f"w{i}": 9 for i in range(1, 6)}, forged=0)

    def random_images(random_per_writer, seed):
        model = FakeModel()
        scores = evaluate.score_protocol(
            dataset,
            model.embed,
            model.score,
            refs=5,
            random_per_writer=random_per_writer,
            seed=seed,
        )
        return {w: scores.random[w].tolist() for w in scores.random}

    drawn = random_images(3, seed=0)
    assert all(len(v) == 3 for v in drawn.values())
    assert drawn == random_images(3, seed=0)
    assert drawn != random_images(3, seed=1)
    everything = random_images(None, seed=0)
    assert all(len(v) == 4 * 4 for v in everything.values())  # 4 other writers x 4 queries
    for w in drawn:
        assert set(drawn[w]) <= set(everything[w])
    assert random_images(100, seed=0) == everything


def test_no_forgeries_leaves_skilled_metrics_empty(tmp_path):
    dataset = make_dataset(tmp_path, {"w1": 6, "w2": 6}, forged=0)
    model = FakeModel()
    report = evaluate.summarize(
        evaluate.score_protocol(dataset, model.embed, model.score, refs=5), 0.8, 0.5
    )
    assert report["n_skilled"] == 0
    for key in ("eer_skilled", "eer_skilled_user", "auc_skilled", "far_skilled"):
        assert report[key] is None
    assert report["eer_skilled_ci95"] is None and len(report["eer_random_ci95"]) == 2
    assert report["eer_random"] is not None


def test_a_single_writer_has_no_random_forgeries(tmp_path):
    dataset = make_dataset(tmp_path, {"w1": 6})
    model = FakeModel()
    report = evaluate.summarize(
        evaluate.score_protocol(dataset, model.embed, model.score, refs=5), 0.8, 0.5
    )
    assert report["n_random"] == 0
    assert report["eer_random"] is None
    assert report["eer_skilled"] is not None


def test_nothing_to_evaluate(tmp_path):
    dataset = make_dataset(tmp_path, {"w1": 5, "w2": 3})
    model = FakeModel()
    with pytest.raises(DatasetError, match="at least 6 genuine"):
        evaluate.score_protocol(dataset, model.embed, model.score, refs=5)
    assert model.embed_calls == []


def test_no_forgery_to_measure_is_refused_before_embedding(tmp_path):
    # One writer and no forgeries had "succeeded" with every figure n/a and an empty plot.
    model = FakeModel()
    one = make_dataset(tmp_path / "one", {"w1": 8}, forged=0)
    with pytest.raises(DatasetError, match="one writer to use"):
        evaluate.score_protocol(one, model.embed, model.score, refs=5)
    two = make_dataset(tmp_path / "two", {"w1": 8, "w2": 8}, forged=0)
    with pytest.raises(DatasetError, match="no random forgeries were asked for"):
        evaluate.score_protocol(two, model.embed, model.score, refs=5, random_per_writer=0)
    assert model.embed_calls == []


def test_thresholds_in_the_wrong_order(three_writers):
    model = FakeModel()
    scores = evaluate.score_protocol(three_writers, model.embed, model.score)
    with pytest.raises(ValueError, match="t_reject"):
        evaluate.summarize(scores, t_accept=0.5, t_reject=0.8)


def test_images_are_embedded_a_chunk_at_a_time(three_writers, monkeypatch):
    # A large data set's canvases would not fit in memory all at once.
    whole = evaluate.score_protocol(three_writers, FakeModel().embed, FakeModel().score)
    monkeypatch.setattr(evaluate, "EMBED_CHUNK", 10)
    calls = []

    class Recorder:
        def update(self, done, total, text=""):
            calls.append((done, total, text))

    model = FakeModel()
    chunked = evaluate.score_protocol(three_writers, model.embed, model.score, progress=Recorder())
    assert [len(c) for c in model.embed_calls] == [10, 10, 10, 3]
    assert len({p for c in model.embed_calls for p in c}) == 33
    assert calls[:4] == [(n, 33, "reading the images") for n in (0, 10, 20, 30)]
    assert chunked.genuine.keys() == whole.genuine.keys()
    for w in whole.genuine:
        for kind in ("genuine", "skilled", "random"):
            assert np.array_equal(getattr(chunked, kind)[w], getattr(whole, kind)[w])


class ModelWithBadImages(FakeModel):
    """Fails, as `Verifier.embed` does, on a call holding any of `bad` (path -> error)."""

    def __init__(self, bad):
        super().__init__()
        self.bad = bad

    def embed(self, paths):
        for path in paths:
            if path in self.bad:
                self.embed_calls.append(list(paths))
                raise self.bad[path]
        return super().embed(paths)


def test_an_image_that_cannot_be_used_is_left_out_as_if_absent(three_writers, tmp_path):
    w1 = three_writers.writer("w1")
    damaged, blank = w1.genuine[1], three_writers.writer("w2").forged[0]
    model = ModelWithBadImages(
        {damaged: UnsupportedFormatError("a text file"), blank: BlankImageError("no ink")}
    )
    scores = evaluate.score_protocol(three_writers, model.embed, model.score, refs=5)
    assert scores.unreadable == {damaged: "a text file", blank: "no ink"}
    # w1's references move on by one image; its only genuine query is image 7
    assert model.refs_seen[1] == [1, 3, 4, 5, 6]
    np.testing.assert_allclose(scores.genuine["w1"], [0.86], rtol=1e-6)
    np.testing.assert_allclose(scores.skilled["w2"], [0.5, 0.7, 0.9], rtol=1e-6)
    report = evaluate.summarize(scores, 0.855, 0.6)
    assert report["n_unreadable"] == 2 and report["n_genuine"] == 5 and report["n_skilled"] == 11


def test_the_cli_warns_of_images_left_out_and_lists_them(monkeypatch, tmp_path, capsys):
    from types import SimpleNamespace

    dataset = make_dataset(tmp_path / "data", {"w1": 7, "w2": 7})
    bad = dataset.writer("w2").genuine[6]
    model = ModelWithBadImages({bad: UnsupportedFormatError("not a picture")})
    fake = SimpleNamespace(
        embed=model.embed,
        scores=model.score,
        model_id="fake",
        thresholds=SimpleNamespace(accept=0.855, reject=0.6),
    )
    monkeypatch.setattr("model.Verifier.load", lambda *a, **k: fake)
    main = cli_with(monkeypatch, "evaluate")
    code, out, err = run_cli(main, capsys, "evaluate", "--data", tmp_path / "data", "--json")
    assert code == 0
    assert "warning: Left out 1 image(s) that could not be used" in err
    assert "w2/genuine/g7.png: not a picture" in err
    report = json.loads(out)
    assert report["unreadable"] == [{"path": "w2/genuine/g7.png", "reason": "not a picture"}]
    assert report["n_unreadable"] == 1 and report["n_genuine"] == 3


def test_misshapen_model_output_is_caught(three_writers):
    model = FakeModel()
    with pytest.raises(ValueError, match="embed returned"):
        evaluate.score_protocol(three_writers, lambda paths: np.zeros((2, 3)), model.score)
    with pytest.raises(ValueError, match="score returned"):
        evaluate.score_protocol(three_writers, model.embed, lambda r, q: np.zeros((len(q), 1)))


def test_progress_and_cancellation(three_writers):
    calls = []

    class Recorder:
        def update(self, done, total, text=""):
            calls.append((done, total))

    model = FakeModel()
    evaluate.score_protocol(three_writers, model.embed, model.score, progress=Recorder())
    # reading the 33 images (one chunk), then scoring writer by writer
    assert calls == [(0, 33), (0, 3), (1, 3), (2, 3), (3, 3)]

    progress = NullProgress()
    progress.cancel()
    with pytest.raises(CancelledError):
        evaluate.score_protocol(three_writers, model.embed, model.score, progress=progress)


@pytest.mark.parametrize("forged", [4, 0])
def test_plot_writes_a_png(tmp_path, forged):
    dataset = make_dataset(tmp_path / "data", {"w1": 7, "w2": 7, "w3": 7}, forged=forged)
    model = FakeModel()
    scores = evaluate.score_protocol(dataset, model.embed, model.score)
    out = tmp_path / "plots" / "eval.png"
    evaluate.plot(scores, out, title="fake model", t_accept=0.855, t_reject=0.6)
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000


def test_no_random_forgeries_asked_for(three_writers):
    model = FakeModel()
    report = evaluate.summarize(
        evaluate.score_protocol(three_writers, model.embed, model.score, random_per_writer=0),
        0.8,
        0.5,
    )
    assert report["n_random"] == 0 and report["eer_random"] is None
    assert report["eer_skilled"] is not None


# --- `sigverify evaluate` refuses bad input in one line, before any work ----------------


@pytest.fixture
def evaluate_cli(monkeypatch, tmp_path):
    """`sigverify evaluate` on a listed data set; loading a model is a test failure, as
    every refusal here must come first."""

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded")

    monkeypatch.setattr("model.Verifier.load", no_model)
    make_dataset(tmp_path / "data", {"w1": 7, "w2": 7})
    return cli_with(monkeypatch, "evaluate")


@pytest.mark.parametrize(
    ("option", "value"),
    [("--random-per-writer", "-1"), ("--refs", "0"), ("--refs", "-2"), ("--refs", "1.5")],
)
def test_evaluate_refuses_a_bad_number(evaluate_cli, tmp_path, capsys, option, value):
    argv = ["evaluate", "--data", tmp_path / "data", option, value]
    code, out, err = run_cli(evaluate_cli, capsys, *argv)
    assert_refused_option(code, err, option, value)
    assert out == ""


@pytest.mark.parametrize(
    ("plot", "words"),
    [
        ("no-such-folder/eval.png", "the folder does not exist"),
        ("eval.jpg", "must be a .png file"),
        ("eval.txt", "must be a .png file"),
        ("data/eval.png", "lies in the data set folder"),  # a scan there had been replaced
    ],
)
def test_evaluate_refuses_a_bad_plot_target_and_makes_nothing(
    evaluate_cli, tmp_path, capsys, plot, words
):
    before = files_under(tmp_path)
    argv = ["evaluate", "--data", tmp_path / "data", "--plot", tmp_path / plot]
    code, _, err = run_cli(evaluate_cli, capsys, *argv)
    assert_user_error(code, err, words)
    assert files_under(tmp_path) == before


def test_evaluate_with_weights_that_are_not_a_model_is_one_line(monkeypatch, tmp_path, capsys):
    make_dataset(tmp_path / "data", {"w1": 7, "w2": 7})
    (tmp_path / "some.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    main = cli_with(monkeypatch, "evaluate")
    argv = ["evaluate", "--data", tmp_path / "data", "--weights", tmp_path / "some.png"]
    code, _, err = run_cli(main, capsys, *argv, "--device", "cpu")
    assert_user_error(code, err, "some.png is damaged or not a sigverify model")
    assert "weights_only" not in err and "arbitrary code" not in err


def test_the_human_report_says_n_a_for_what_could_not_be_measured(tmp_path):
    from sigverify_gui.cli.commands.evaluate import _human

    dataset = make_dataset(tmp_path, {"w1": 6, "w2": 6}, forged=0)
    model = FakeModel()
    report = evaluate.summarize(
        evaluate.score_protocol(dataset, model.embed, model.score, refs=5), 0.8, 0.5
    )
    text = _human(report | {"data": str(tmp_path), "layout": "generic", "model_id": "m"})
    assert "EER skilled n/a" in text and "AUC skilled n/a" in text and "None" not in text
    assert "AUC skilled n/a, random 1.0000" in text
