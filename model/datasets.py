"""Signature data sets on disk: one small interface over the folder layouts users meet.

Training, evaluation and enrolling a folder only ever see a `Dataset`: writers, each
with genuine and forged image paths. The public sets (CEDAR, BHSig260, GPDS, MCYT-75,
UTSig, SigComp 2011 as published and as Kaggle's "sign_data") and our own generic layout,
which `sigverify synth` writes, differ only in where those paths come from. They come in
three kinds, each read by one function here: a folder per kind of signature with the
writer in each file name (CEDAR, SigComp 2011), a folder per writer with the kind in
each file name (BHSig260, GPDS, MCYT), and folders named for both (UTSig, sign_data,
generic).

Readers look at names only, never at pixels: a damaged image is the preprocessing's
problem, found when it is used. They are strict about where files sit, because a
forgery silently counted as a genuine signature spoils every figure computed from the
set; image files that do not fit the layout are skipped and reported in `warnings`.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from model.errors import DatasetError, os_reason

# With the leading dot, lower case: compare against `path.suffix.lower()`.
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp"}
)

LAYOUTS: tuple[str, ...] = (
    "cedar",
    "sigcomp2011",
    "utsig",
    "bhsig",
    "gpds",
    "mcyt",
    "sigcomp",
    "generic",
)

# What each layout looks like, for error messages.
LAYOUT_DESCRIPTIONS: dict[str, str] = {
    "cedar": "CEDAR (full_org/original_<writer>_<n> and full_forg/forgeries_<writer>_<n>)",
    "sigcomp2011": "SigComp 2011 as published (Offline Genuine/<writer>_<n> and "
    "Offline Forgeries/<forger><writer>_<n>)",
    "utsig": "UTSig (Genuine/<writer>/ and Forgery/Skilled/<writer>/)",
    "bhsig": "BHSig260 (<writer>/B-S-<writer>-G-<n> and -F-<n>, H-S- for Hindi)",
    "gpds": "GPDS (<writer>/c-<writer>-<n> and cf-<writer>-<n>)",
    "mcyt": "MCYT-75 (<writer>/<writer>v<n> and [<forger>_]<writer>f<n>)",
    "sigcomp": "sign_data (<writer>/ and <writer>_forg/ folders)",
    "generic": "generic (<writer>/genuine/ and optionally <writer>/forged/)",
}

# The writer in a file's name, for the layouts with a folder per kind of signature.
_CEDAR_GENUINE = re.compile(r"original_(?P<writer>\d+)_\d+", re.IGNORECASE)
_CEDAR_FORGED = re.compile(r"forgeries_(?P<writer>\d+)_\d+", re.IGNORECASE)
# SigComp 2011: a forgery names its forger (4 digits) and then the writer forged (3).
_SIGCOMP2011_GENUINE = re.compile(r"(?P<writer>\d{3})_\d+", re.IGNORECASE)
_SIGCOMP2011_FORGED = re.compile(r"\d{4}(?P<writer>\d{3})_\d+", re.IGNORECASE)
_SIGCOMP2011_FOLDERS = ("offline genuine", "offline forgeries")
# The writer and the kind in a file's name, for the layouts with a folder per writer:
# the pattern, and the value of its `kind` group that means a forgery.
_TAGGED: dict[str, tuple[re.Pattern[str], str]] = {
    "bhsig": (re.compile(r"[BH]-S-(?P<writer>\d+)-(?P<kind>[GF])-\d+", re.IGNORECASE), "f"),
    "gpds": (re.compile(r"(?P<kind>c|cf)-(?P<writer>\d+)-\d+", re.IGNORECASE), "cf"),
    # MCYT: "v" (verdadera) genuine, "f" forged; a forgery may name its forger first.
    "mcyt": (re.compile(r"(?:\d+_)?(?P<writer>\d+)(?P<kind>[vf])\d+", re.IGNORECASE), "f"),
}
_SIGCOMP_FORGED_SUFFIX = "_forg"
_DIGIT_RUNS = re.compile(r"([0-9]+)")
# Looking inside subfolders for a hint costs a listing of each; a few are enough.
_MAX_HINT_FOLDERS = 20


@dataclass(frozen=True)
class WriterSamples:
    writer: str  # as the data set names it: "12", or a folder name
    genuine: tuple[Path, ...]  # in natural file-name order
    forged: tuple[Path, ...]


@dataclass(frozen=True)
class Dataset:
    root: Path
    layout: str  # one of LAYOUTS
    writers: tuple[WriterSamples, ...]  # in natural writer-id order, each with >= 1 genuine
    warnings: tuple[str, ...] = ()  # what was left out, and why

    @property
    def n_genuine(self) -> int:
        return sum(len(w.genuine) for w in self.writers)

    @property
    def n_forged(self) -> int:
        return sum(len(w.forged) for w in self.writers)

    def writer(self, writer_id: str) -> WriterSamples:
        for samples in self.writers:
            if samples.writer == writer_id:
                return samples
        raise DatasetError(f"Writer {writer_id!r} is not in the data set at {self.root}.")


def natural_key(name: str) -> tuple:
    """Sort key that compares digit runs as numbers: "2" before "10", "a9" before "a10".

    Each run becomes a tuple whose first element says whether it is a number, so runs
    of different kinds still compare; the original text breaks ties ("01" vs "1").
    """
    parts = []
    for run in _DIGIT_RUNS.split(name):
        if not run:
            continue
        if run.isascii() and run.isdigit():
            parts.append((0, int(run), run))
        else:
            parts.append((1, run.casefold(), run))
    return tuple(parts)


def is_image_name(name: str) -> bool:
    """A visible file whose extension says image (Thumbs.db, notes, "._x.png" are not)."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


# --- reading folders ---------------------------------------------------------------


def _list_folder(folder: Path) -> tuple[list[Path], list[Path]]:
    """The visible subfolders and the image files of one folder."""
    try:
        with os.scandir(folder) as it:
            entries = list(it)
    except OSError as err:
        raise DatasetError(f"The folder {folder} cannot be read ({os_reason(err)}).") from err
    subfolders: list[Path] = []
    images: list[Path] = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            subfolders.append(Path(entry.path))
        elif entry.is_file() and is_image_name(entry.name):
            images.append(Path(entry.path))
    return subfolders, images


def _named(folders: list[Path], name: str) -> list[Path]:
    # Case-insensitive: sets copied from Windows arrive as "Full_Org" or "Genuine".
    return [f for f in folders if f.name.lower() == name]


def _stem(path: Path) -> str:
    return os.path.splitext(path.name)[0]


def _same_writer(a: str, b: str) -> bool:
    # "007" names the same writer as "7": numbers are compared as numbers.
    if a.isdecimal() and b.isdecimal():
        return int(a) == int(b)
    return a == b


def _image_files_that_do(count: int) -> str:
    return "1 image file that does" if count == 1 else f"{count} image files that do"


@dataclass
class _Collector:
    """What a reader found: paths per writer, and image files that fit nowhere."""

    genuine: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    forged: dict[str, list[Path]] = field(default_factory=lambda: defaultdict(list))
    skipped: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what else was left out, and why

    def finish(self, root: Path, layout: str) -> Dataset:
        def in_order(paths: list[Path]) -> tuple[Path, ...]:
            return tuple(sorted(paths, key=lambda p: (natural_key(p.name), str(p))))

        writers = tuple(
            WriterSamples(w, in_order(self.genuine[w]), in_order(self.forged.get(w, [])))
            for w in sorted(self.genuine, key=natural_key)
        )
        warnings = [
            f"Writer {w} has forgeries but no genuine signatures; it was left out."
            for w in sorted(set(self.forged) - set(self.genuine), key=natural_key)
        ]
        if self.skipped:
            example = os.path.relpath(min(self.skipped, key=str), root)
            warnings.append(
                f"Skipped {_image_files_that_do(len(self.skipped))} not fit the "
                f"{layout} layout (for example {example})."
            )
        warnings.extend(self.notes)
        return Dataset(root=root, layout=layout, writers=writers, warnings=tuple(warnings))


def _read_kind_folders(
    root: Path,
    found: _Collector,
    *,
    genuine: tuple[str, re.Pattern[str]],
    forged: tuple[str, re.Pattern[str]],
) -> None:
    """A folder per kind of signature, the writer in each file's name (CEDAR, SigComp 2011)."""
    subfolders, loose = _list_folder(root)
    found.skipped.extend(loose)
    known = {genuine[0], forged[0]}
    for (folder_name, pattern), target in ((genuine, found.genuine), (forged, found.forged)):
        for folder in _named(subfolders, folder_name):
            for path in _list_folder(folder)[1]:
                match = pattern.fullmatch(_stem(path))
                if match:
                    target[str(int(match.group("writer")))].append(path)
                else:
                    found.skipped.append(path)
    for folder in subfolders:  # SigComp 2011's online data, say: not images of ours
        if folder.name.lower() not in known:
            found.skipped.extend(_list_folder(folder)[1])


def _read_tagged_files(root: Path, found: _Collector, *, layout: str) -> None:
    """A folder per writer, the writer and the kind in each file's name (BHSig260, GPDS,
    MCYT)."""
    pattern, forged_kind = _TAGGED[layout]
    subfolders, loose = _list_folder(root)
    found.skipped.extend(loose)
    for folder in subfolders:
        writer = folder.name
        for path in _list_folder(folder)[1]:
            match = pattern.fullmatch(_stem(path))
            # A file naming another writer is misfiled; counting it here would be wrong.
            if match and _same_writer(match.group("writer"), writer):
                forged = match.group("kind").lower() == forged_kind
                (found.forged if forged else found.genuine)[writer].append(path)
            else:
                found.skipped.append(path)


def _read_utsig(root: Path, found: _Collector) -> None:
    """Genuine/<writer>/ and Forgery/<kind>/<writer>/. Only skilled forgeries count as
    forgeries: UTSig's simple ones (the forger knew the name only) and opposite-hand ones
    (the writer, with the other hand) are different tests, left out and reported."""
    subfolders, loose = _list_folder(root)
    found.skipped.extend(loose)
    for folder in _named(subfolders, "genuine"):
        _writer_folders(folder, found.genuine, found)
    for forgeries in _named(subfolders, "forgery"):
        kinds, misplaced = _list_folder(forgeries)
        found.skipped.extend(misplaced)
        for kind in sorted(kinds, key=lambda folder: natural_key(folder.name)):
            if kind.name.lower() == "skilled":
                _writer_folders(kind, found.forged, found)
                continue
            count = sum(len(_list_folder(writer)[1]) for writer in _list_folder(kind)[0])
            if count:
                found.notes.append(
                    f"Left out {count} '{kind.name}' forgeries: only skilled forgeries "
                    "are counted as forgeries."
                )


def _writer_folders(folder: Path, target: dict[str, list[Path]], found: _Collector) -> None:
    subfolders, misplaced = _list_folder(folder)
    found.skipped.extend(misplaced)
    for writer in subfolders:
        target[writer.name].extend(_list_folder(writer)[1])


def _read_sigcomp(root: Path, found: _Collector) -> None:
    subfolders, loose = _list_folder(root)
    found.skipped.extend(loose)
    suffix = _SIGCOMP_FORGED_SUFFIX
    for folder in subfolders:
        name = folder.name
        is_forged = name.lower().endswith(suffix) and len(name) > len(suffix)
        writer = name[: -len(suffix)] if is_forged else name
        target = found.forged if is_forged else found.genuine
        images = _list_folder(folder)[1]
        if images:
            target[writer].extend(images)


def _read_generic(root: Path, found: _Collector) -> None:
    subfolders, loose = _list_folder(root)
    found.skipped.extend(loose)
    for folder in subfolders:
        inner, misplaced = _list_folder(folder)
        found.skipped.extend(misplaced)
        for kind, target in (("genuine", found.genuine), ("forged", found.forged)):
            for kind_folder in _named(inner, kind):
                images = _list_folder(kind_folder)[1]
                if images:
                    target[folder.name].extend(images)
        # "forgeries/", "skilled/": said, not silently left out of every figure
        for other in inner:
            if other.name.lower() not in ("genuine", "forged"):
                found.skipped.extend(_list_folder(other)[1])


_READERS: dict[str, Callable[[Path, _Collector], None]] = {
    "cedar": partial(
        _read_kind_folders,
        genuine=("full_org", _CEDAR_GENUINE),
        forged=("full_forg", _CEDAR_FORGED),
    ),
    "sigcomp2011": partial(
        _read_kind_folders,
        genuine=(_SIGCOMP2011_FOLDERS[0], _SIGCOMP2011_GENUINE),
        forged=(_SIGCOMP2011_FOLDERS[1], _SIGCOMP2011_FORGED),
    ),
    "utsig": _read_utsig,
    **{layout: partial(_read_tagged_files, layout=layout) for layout in _TAGGED},
    "sigcomp": _read_sigcomp,
    "generic": _read_generic,
}


# --- detection ---------------------------------------------------------------------


def _looks_like(root: Path) -> str | None:
    """The first layout whose tell-tale structure `root` has, or None.

    Order matters: nearly every layout holds subfolders of images, which sign_data's
    layout would claim, reading every forgery in them as genuine; so the layouts that
    name kinds of signature in their folders or files are asked first, and sign_data's
    last. CEDAR, SigComp 2011 and UTSig are recognised by their folders alone, so that
    such a set with unexpected file names is reported as such rather than read as
    something else.
    """
    subfolders, _ = _list_folder(root)
    names = {folder.name.lower() for folder in subfolders}
    if names & {"full_org", "full_forg"}:
        return "cedar"
    if names & set(_SIGCOMP2011_FOLDERS):
        return "sigcomp2011"
    if {"genuine", "forgery"} <= names:
        return "utsig"
    contents = [_list_folder(folder) for folder in subfolders]
    stems = [_stem(p) for _, images in contents for p in images]
    for layout, (pattern, _) in _TAGGED.items():
        if any(pattern.fullmatch(stem) for stem in stems):
            return layout
    for inner, _ in contents:
        if {folder.name.lower() for folder in inner} & {"genuine", "forged"}:
            return "generic"
    if stems:
        return "sigcomp"
    return None


def _check_folder(root: Path) -> None:
    if not root.exists():
        raise DatasetError(f"The folder {root} does not exist.")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file, not a folder.")


def _layouts_looked_for() -> str:
    names = [LAYOUT_DESCRIPTIONS[name] for name in LAYOUTS]
    return ", ".join(names[:-1]) + " or " + names[-1]


def detect_layout(root: Path) -> str:
    """The layout of the data set folder `root`; DatasetError when none fits."""
    root = Path(root)
    _check_folder(root)
    layout = _looks_like(root)
    if layout is not None:
        return layout
    subfolders, images = _list_folder(root)
    if not subfolders and not images:
        raise DatasetError(f"The folder {root} holds no signature images.")
    message = (
        f"The folder {root} is not laid out as a known data set; "
        f"looked for {_layouts_looked_for()}."
    )
    # A common slip is to pick the folder one level too high: name the one to use.
    for folder in sorted(subfolders, key=lambda f: natural_key(f.name))[:_MAX_HINT_FOLDERS]:
        try:
            inner = _looks_like(folder)
        except DatasetError:  # an unreadable subfolder is no hint
            continue
        if inner is not None:
            message += f" Its subfolder {folder.name} holds a {inner} data set: open that instead."
            break
    raise DatasetError(message)


def open_dataset(root: str | Path, layout: str = "auto") -> Dataset:
    """Read the data set at `root`; DatasetError when it cannot be read as one.

    `layout` is "auto" or the layout the folder must have. A folder that looks like
    another layout is refused rather than read anyway: a BHSig set read as SigComp,
    say, would count every forgery as a genuine signature.
    """
    root = Path(root).expanduser().absolute()
    if layout != "auto" and layout not in LAYOUTS:
        choices = ", ".join(("auto", *LAYOUTS))
        raise DatasetError(f"Unknown data set layout {layout!r}; choose one of {choices}.")
    _check_folder(root)
    if layout == "auto":
        layout = detect_layout(root)
    else:
        actual = _looks_like(root)
        if actual != layout:
            seen = f"looks like the {actual} layout" if actual else "holds no known data set"
            raise DatasetError(
                f"The folder {root} is not laid out as {LAYOUT_DESCRIPTIONS[layout]}; it {seen}."
            )
    found = _Collector()
    _READERS[layout](root, found)
    dataset = found.finish(root, layout)
    if not dataset.writers:
        message = f"No writer with genuine signatures was found in {root}."
        if found.skipped:
            message += (
                f" It holds {_image_files_that_do(len(found.skipped))} not fit the {layout} layout."
            )
        raise DatasetError(message)
    return dataset
