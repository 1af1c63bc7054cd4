"""Data set readers: each layout on tiny fake trees, detection, and `dataset-info`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from model.datasets import (
    IMAGE_EXTENSIONS,
    LAYOUTS,
    Dataset,
    detect_layout,
    natural_key,
    open_dataset,
)
from model.errors import DatasetError
from sigverify_gui.cli import main


def _image(path: Path) -> Path:
    """A real, tiny image in the format its extension names."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", (6, 4), 200).save(path)
    return path


def _junk(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not an image")
    return path


def _names(paths) -> list[str]:
    return [p.name for p in paths]


def _counts(ds: Dataset) -> dict[str, tuple[int, int]]:
    return {w.writer: (len(w.genuine), len(w.forged)) for w in ds.writers}


# --- CEDAR ---------------------------------------------------------------------


def _cedar(root: Path) -> Path:
    # writer 2: 1..11 with 3 missing, mixed extensions; writer 10: one each
    for n in (1, 2, 4, 5, 6, 7, 8, 9, 10, 11):
        ext = {1: "PNG", 2: "jpg", 9: "tif", 10: "jpeg", 11: "bmp"}.get(n, "png")
        _image(root / "full_org" / f"original_2_{n}.{ext}")
    for n in (1, 2):
        _image(root / "full_forg" / f"forgeries_2_{n}.webp")
    _image(root / "full_org" / "original_10_1.png")
    _image(root / "full_forg" / "forgeries_10_1.png")
    _junk(root / "full_org" / "Thumbs.db")
    _junk(root / "full_org" / "notes.txt")
    _image(root / "full_org" / ".original_2_99.png")  # hidden: a macOS or editor leftover
    return root


def test_cedar_is_detected_and_read(tmp_path):
    root = _cedar(tmp_path / "CEDAR")
    assert detect_layout(root) == "cedar"
    ds = open_dataset(root)
    assert ds.layout == "cedar"
    assert ds.root == root
    assert [w.writer for w in ds.writers] == ["2", "10"]
    assert _counts(ds) == {"2": (10, 2), "10": (1, 1)}
    assert (ds.n_genuine, ds.n_forged) == (11, 3)
    assert ds.warnings == ()
    assert _names(ds.writer("2").genuine) == [
        "original_2_1.PNG",
        "original_2_2.jpg",
        "original_2_4.png",
        "original_2_5.png",
        "original_2_6.png",
        "original_2_7.png",
        "original_2_8.png",
        "original_2_9.tif",
        "original_2_10.jpeg",
        "original_2_11.bmp",
    ]
    assert all(p.is_file() and p.parent.name == "full_org" for p in ds.writer("2").genuine)


def test_cedar_folder_names_are_case_insensitive(tmp_path):
    _image(tmp_path / "Full_Org" / "Original_1_1.png")
    _image(tmp_path / "FULL_FORG" / "forgeries_1_1.png")
    ds = open_dataset(tmp_path)
    assert _counts(ds) == {"1": (1, 1)}


def test_cedar_misplaced_files_are_skipped_and_reported(tmp_path):
    root = _cedar(tmp_path)
    _image(root / "full_org" / "forgeries_2_3.png")  # a forgery in the genuine folder
    _image(root / "full_org" / "scan0001.png")
    _image(root / "full_forg" / "forgeries_7_1.png")  # writer 7 has no genuine images
    ds = open_dataset(root)
    assert _counts(ds) == {"2": (10, 2), "10": (1, 1)}
    assert len(ds.warnings) == 2
    assert "Writer 7" in ds.warnings[0] and "left out" in ds.warnings[0]
    assert ds.warnings[1].startswith("Skipped 2 image files that do not fit the cedar layout")


def test_cedar_with_no_matching_names_says_so(tmp_path):
    _image(tmp_path / "full_org" / "scan1.png")
    with pytest.raises(DatasetError, match="No writer with genuine signatures") as err:
        open_dataset(tmp_path)
    assert "It holds 1 image file that does not fit the cedar layout." in str(err.value)


# --- BHSig260 --------------------------------------------------------------------


def _bhsig(root: Path, script: str = "B") -> Path:
    for writer, genuine, forged in (("1", (1, 2, 5, 12), (1, 3)), ("12", (2,), ())):
        for n in genuine:
            _image(root / writer / f"{script}-S-{writer}-G-{n:02d}.png")
        for n in forged:
            _image(root / writer / f"{script}-S-{writer}-F-{n:02d}.tif")
    return root


@pytest.mark.parametrize("script", ["B", "H"])
def test_bhsig_bengali_and_hindi_are_detected_and_read(tmp_path, script):
    root = _bhsig(tmp_path, script)
    assert detect_layout(root) == "bhsig"
    ds = open_dataset(root)
    assert ds.layout == "bhsig"
    assert _counts(ds) == {"1": (4, 2), "12": (1, 0)}
    assert _names(ds.writer("1").genuine) == [
        f"{script}-S-1-G-01.png",
        f"{script}-S-1-G-02.png",
        f"{script}-S-1-G-05.png",
        f"{script}-S-1-G-12.png",
    ]
    assert ds.warnings == ()


def test_bhsig_file_of_another_writer_is_not_counted(tmp_path):
    root = _bhsig(tmp_path)
    _image(root / "1" / "B-S-12-G-03.png")  # misfiled: belongs to writer 12
    _image(root / "B-S-1-G-20.png")  # loose in the top folder
    _junk(root / "12" / "desktop.ini")
    ds = open_dataset(root)
    assert _counts(ds) == {"1": (4, 2), "12": (1, 0)}
    assert ds.warnings == (
        "Skipped 2 image files that do not fit the bhsig layout (for example 1/B-S-12-G-03.png).",
    )


def test_bhsig_writer_folder_with_leading_zeros(tmp_path):
    _image(tmp_path / "007" / "B-S-7-G-01.png")
    ds = open_dataset(tmp_path)
    assert _counts(ds) == {"007": (1, 0)}


# --- SigComp 2011 / sign_data ------------------------------------------------------------


def test_sigcomp_genuine_and_forg_folders(tmp_path):
    _image(tmp_path / "049" / "01_049.png")
    _image(tmp_path / "049" / "02_049.PNG")
    _image(tmp_path / "049_forg" / "01_0114049.png")
    _image(tmp_path / "002" / "a.jpg")
    _image(tmp_path / "003_forg" / "x.png")  # forgeries only
    _junk(tmp_path / "049" / "Thumbs.db")
    assert detect_layout(tmp_path) == "sigcomp"
    ds = open_dataset(tmp_path)
    assert ds.layout == "sigcomp"
    assert [w.writer for w in ds.writers] == ["002", "049"]
    assert _counts(ds) == {"002": (1, 0), "049": (2, 1)}
    assert ds.warnings == ("Writer 003 has forgeries but no genuine signatures; it was left out.",)


# --- GPDS, MCYT-75: the kind in each file's name, in a folder per writer -----------------


def _gpds(root: Path) -> Path:
    for n in (1, 2, 3):
        _image(root / "001" / f"c-001-{n:02d}.jpg")
    for n in (1, 2):
        _image(root / "001" / f"cf-001-{n:02d}.jpg")
    _image(root / "010" / "c-010-01.bmp")
    return root


def _mcyt(root: Path) -> Path:
    for n in range(3):
        _image(root / "0000" / f"0000v{n:02d}.bmp")
    _image(root / "0000" / "0003_0000f00.bmp")  # forger 0003 forging writer 0000
    _image(root / "0000" / "0000f01.BMP")  # the forger left out, as some copies have it
    _image(root / "0001" / "0001v00.bmp")
    return root


def test_gpds_is_detected_and_read(tmp_path):
    root = _gpds(tmp_path)
    _image(root / "001" / "c-010-02.jpg")  # misfiled: belongs to writer 010
    assert detect_layout(root) == "gpds"
    ds = open_dataset(root)
    assert _counts(ds) == {"001": (3, 2), "010": (1, 0)}
    assert _names(ds.writer("001").forged) == ["cf-001-01.jpg", "cf-001-02.jpg"]
    assert ds.warnings == (
        "Skipped 1 image file that does not fit the gpds layout (for example 001/c-010-02.jpg).",
    )


def test_mcyt_is_detected_and_read_with_or_without_the_forger(tmp_path):
    root = _mcyt(tmp_path)
    assert detect_layout(root) == "mcyt"
    ds = open_dataset(root)
    assert _counts(ds) == {"0000": (3, 2), "0001": (1, 0)}
    assert _names(ds.writer("0000").forged) == ["0000f01.BMP", "0003_0000f00.bmp"]
    assert ds.warnings == ()


@pytest.mark.parametrize("make", [_gpds, _mcyt])
def test_forgeries_named_in_files_are_never_read_as_genuine(tmp_path, make):
    # A folder per writer also looks like sign_data, which would read every forgery in
    # it as a genuine signature: the file names decide first, and sign_data is refused.
    root = make(tmp_path)
    assert open_dataset(root).n_forged == 2
    with pytest.raises(DatasetError, match="it looks like the (gpds|mcyt) layout"):
        open_dataset(root, layout="sigcomp")


# --- UTSig, SigComp 2011: folders per kind ---------------------------------------------


def test_utsig_counts_skilled_forgeries_and_reports_the_others(tmp_path):
    for n in (1, 2, 3):
        _image(tmp_path / "Genuine" / "1" / f"{n}.tif")
    _image(tmp_path / "Genuine" / "2" / "1.tif")
    for n in (1, 2):
        _image(tmp_path / "Forgery" / "Skilled" / "1" / f"{n}.tif")
    _image(tmp_path / "Forgery" / "Simple" / "1" / "1.tif")
    _image(tmp_path / "Forgery" / "Simple" / "2" / "1.tif")
    _image(tmp_path / "Forgery" / "Opposite Hand" / "1" / "1.tif")
    assert detect_layout(tmp_path) == "utsig"
    ds = open_dataset(tmp_path)
    assert _counts(ds) == {"1": (3, 2), "2": (1, 0)}
    assert ds.warnings == (
        "Left out 1 'Opposite Hand' forgeries: only skilled forgeries are counted as forgeries.",
        "Left out 2 'Simple' forgeries: only skilled forgeries are counted as forgeries.",
    )


def test_sigcomp2011_as_published_reads_the_writer_forged_from_the_name(tmp_path):
    _image(tmp_path / "Offline Genuine" / "001_01.PNG")
    _image(tmp_path / "Offline Genuine" / "001_02.png")
    _image(tmp_path / "Offline Genuine" / "002_01.png")
    _image(tmp_path / "Offline Forgeries" / "0121001_01.png")  # forger 0121, writer 001
    _image(tmp_path / "Offline Forgeries" / "0121002_01.png")
    _image(tmp_path / "Offline Forgeries" / "stray.png")
    (tmp_path / "Online Genuine").mkdir()
    (tmp_path / "Online Genuine" / "001_1.HWR").write_text("1 2 3")
    assert detect_layout(tmp_path) == "sigcomp2011"
    ds = open_dataset(tmp_path)
    assert _counts(ds) == {"1": (2, 1), "2": (1, 1)}
    assert len(ds.warnings) == 1 and "Offline Forgeries/stray.png" in ds.warnings[0]


# --- generic (what `sigverify synth` writes) ---------------------------------------------


def test_generic_with_and_without_forged(tmp_path):
    _image(tmp_path / "w10" / "genuine" / "s1.png")
    _image(tmp_path / "w10" / "genuine" / "s2.jpg")
    _image(tmp_path / "w10" / "forged" / "f1.png")
    _image(tmp_path / "w9" / "Genuine" / "only.webp")
    assert detect_layout(tmp_path) == "generic"
    ds = open_dataset(tmp_path)
    assert [w.writer for w in ds.writers] == ["w9", "w10"]
    assert _counts(ds) == {"w9": (1, 0), "w10": (2, 1)}
    assert ds.writer("w9").forged == ()


def test_generic_images_outside_genuine_and_forged_are_skipped(tmp_path):
    _image(tmp_path / "1" / "genuine" / "s1.png")
    _image(tmp_path / "1" / "stray.png")
    _image(tmp_path / "1" / "other" / "deep.png")  # a folder the layout does not know
    _image(tmp_path / "1" / "forgeries" / "f1.png")  # had vanished from every figure
    ds = open_dataset(tmp_path, layout="generic")
    assert _counts(ds) == {"1": (1, 0)}
    assert len(ds.warnings) == 1 and "Skipped 3 image files" in ds.warnings[0]
    assert "(for example 1/forgeries/f1.png)" in ds.warnings[0]


# --- extensions, sorting ------------------------------------------------------------------


@pytest.mark.parametrize("ext", sorted(IMAGE_EXTENSIONS))
@pytest.mark.parametrize("upper", [False, True])
def test_every_image_extension_is_read_in_any_case(tmp_path, ext, upper):
    suffix = ext.upper() if upper else ext
    _image(tmp_path / "1" / "genuine" / f"a{ext}").rename(tmp_path / "1" / "genuine" / f"a{suffix}")
    assert _names(open_dataset(tmp_path).writer("1").genuine) == [f"a{suffix}"]


def test_natural_key_orders_numbers_as_numbers():
    names = ["original_2_10", "original_2_9", "original_10_1", "original_2_1"]
    assert sorted(names, key=natural_key) == [
        "original_2_1",
        "original_2_9",
        "original_2_10",
        "original_10_1",
    ]
    assert sorted(["B", "a10", "a9", "A2"], key=natural_key) == ["A2", "a9", "a10", "B"]


@given(st.lists(st.text()))
def test_natural_key_sorts_any_names(names):
    ordered = sorted(names, key=natural_key)
    assert sorted(ordered, key=natural_key) == ordered
    assert sorted(ordered) == sorted(names)


@given(st.lists(st.integers(min_value=0, max_value=10**12), unique=True))
def test_natural_key_agrees_with_numbers(numbers):
    names = [f"sig_{n}.png" for n in numbers]
    assert sorted(names, key=natural_key) == [f"sig_{n}.png" for n in sorted(numbers)]


# --- errors --------------------------------------------------------------------------------


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        open_dataset(tmp_path / "nope")


def test_file_instead_of_folder(tmp_path):
    with pytest.raises(DatasetError, match="is a file, not a folder"):
        open_dataset(_image(tmp_path / "a.png"))


def test_empty_folder(tmp_path):
    _junk(tmp_path / "Thumbs.db")
    _image(tmp_path / ".hidden" / "x.png")
    with pytest.raises(DatasetError, match="holds no signature images"):
        open_dataset(tmp_path)


def test_unknown_folder_names_the_layouts_looked_for(tmp_path):
    _image(tmp_path / "scan.png")
    _image(tmp_path / "notes" / "deeper" / "deepest" / "x.png")
    with pytest.raises(DatasetError) as err:
        detect_layout(tmp_path)
    message = str(err.value)
    assert "not laid out as a known data set" in message
    for name in ("CEDAR", "BHSig260", "GPDS", "MCYT", "UTSig", "SigComp 2011", "sign_data"):
        assert name in message
    assert "subfolder" not in message


def test_folder_one_level_too_high_names_the_right_one(tmp_path):
    _cedar(tmp_path / "CEDAR")
    _junk(tmp_path / "README.md")
    with pytest.raises(DatasetError, match="Its subfolder CEDAR holds a cedar data set"):
        open_dataset(tmp_path)


def test_unknown_layout_name(tmp_path):
    with pytest.raises(DatasetError, match="Unknown data set layout 'kaggle'"):
        open_dataset(_cedar(tmp_path), layout="kaggle")


@pytest.mark.parametrize("forced", [name for name in LAYOUTS if name != "bhsig"])
def test_explicit_layout_mismatch_is_refused(tmp_path, forced):
    # Read as SigComp, a BHSig set would pass every forgery off as genuine: refuse it.
    root = _bhsig(tmp_path)
    with pytest.raises(DatasetError, match="it looks like the bhsig layout"):
        open_dataset(root, layout=forced)


def test_explicit_matching_layout_is_read(tmp_path):
    assert _counts(open_dataset(_bhsig(tmp_path), layout="bhsig")) == {"1": (4, 2), "12": (1, 0)}


def test_unknown_writer(tmp_path):
    with pytest.raises(DatasetError, match="Writer '3' is not in the data set"):
        open_dataset(_cedar(tmp_path)).writer("3")


# --- `sigverify dataset-info` ------------------------------------------------------------


def test_cli_json(tmp_path, capsys):
    root = _cedar(tmp_path / "set")
    _image(root / "full_forg" / "forgeries_7_1.png")
    assert main(["dataset-info", str(root), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {
        "root": str(root),
        "layout": "cedar",
        "n_writers": 2,
        "n_genuine": 11,
        "n_forged": 3,
        "writers": [
            {"writer": "2", "genuine": 10, "forged": 2},
            {"writer": "10", "genuine": 1, "forged": 1},
        ],
        "warnings": ["Writer 7 has forgeries but no genuine signatures; it was left out."],
    }


def test_cli_human_summary_and_table(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["dataset-info", str(_bhsig(tmp_path)), "--layout", "bhsig"]) == 0
    out = capsys.readouterr().out
    assert "Layout    bhsig" in out
    assert "Writers   2" in out
    assert "Genuine   5 (1-4 per writer)" in out
    assert "Forged    2 (0-2 per writer)" in out
    # two writers fit side by side in 80 columns: one row, two column groups
    table = out[out.index("writer genuine forged") :].splitlines()
    assert table[0].split() == ["writer", "genuine", "forged"] * 2
    assert table[1].split() == ["1", "4", "2", "12", "1", "0"]


def test_cli_table_fills_columns_downwards(tmp_path, capsys, monkeypatch):
    for writer in range(1, 8):
        _image(tmp_path / f"{writer}" / "genuine" / "a.png")
    monkeypatch.setenv("COLUMNS", "50")  # room for two column groups
    assert main(["dataset-info", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    rows = out[out.index("writer genuine forged") :].splitlines()[1:]
    assert [row.split()[::3] for row in rows] == [["1", "5"], ["2", "6"], ["3", "7"], ["4"]]


@pytest.mark.parametrize(
    "args",
    [["dataset-info", "{tmp}/missing"], ["dataset-info", "{tmp}", "--layout", "generic"]],
)
def test_cli_bad_folder_exits_2(tmp_path, capsys, args):
    _cedar(tmp_path)
    assert main([a.format(tmp=tmp_path) for a in args]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert "Traceback" not in captured.err
