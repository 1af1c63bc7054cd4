"""Import refuses exports whose hashes agree but whose records are damaged.

Each case edits the records of a real export and writes them back with the manifest's
SHA-256s and the audit chain's hashes recomputed, as a careless tool or someone
covering their tracks would: only the record checks stand between such a file and a
store whose later verifications, identifications or history screen would fail.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest

import sigverify_gui.cli as cli
from model.errors import BlankImageError, CancelledError, SigverifyError
from model.imageio import encode_png
from model.progress import NullProgress
from sigverify_gui.services import enrol, exchange, identify, reembed, runtime, thresholds, verify
from sigverify_gui.services.captures import gray_from_png
from sigverify_gui.services.errors import ExchangeError
from sigverify_gui.services.exchange_validate import AUDIT_KINDS, PNG_MAGIC
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from tests.fakes import FakeVerifier, render_signatures, store_contents
from tests.test_services_exchange import fill_branch_store

RECORDS = ("customers.json", "references.json", "audit.json")


@pytest.fixture(scope="module")
def export_path(tmp_path_factory) -> Path:
    """An export holding every kind of record a branch writes: a closed customer, a
    retired reference, verifications (one failed), a teller's decision, an
    identification and changed thresholds."""
    folder = tmp_path_factory.mktemp("damaged-export")
    fake = FakeVerifier()
    with Store(folder / "source.db") as store:
        fill_branch_store(store, fake)
        blank = np.full((300, 600), 255, np.uint8)
        with pytest.raises(SigverifyError):
            verify.verify_signature(store, fake, "A", blank, record_failure=True)
        identify.identify_signature(store, fake, render_signatures(3, 1, 6)[0])
        thresholds.set_thresholds(store, fake, 0.8, 0.2)
        with store.write() as db:
            records.set_customer_status(db, "B", "closed")
        exchange.export_zip(store, folder / "branch.zip")
    return folder / "branch.zip"


def rewrite_export(src: Path, dst: Path, edit) -> None:
    """Copy an export, letting `edit(data)` change its records (data[member] is the
    parsed JSON of each record file) and its other members (data["members"], bytes by
    name); then recompute the audit chain and every manifest hash, so that only the
    content checks can tell."""
    with zipfile.ZipFile(src) as zin:
        members = {n: zin.read(n) for n in zin.namelist() if n != "manifest.json"}
        manifest = json.loads(zin.read("manifest.json"))
    data = {name: json.loads(members.pop(name)) for name in RECORDS}
    data["members"] = members
    data["manifest"] = manifest
    edit(data)
    rows = data["audit.json"]
    if isinstance(rows, list):
        _rechain(rows)
    for name in RECORDS:
        members[name] = json.dumps(data[name]).encode()
    manifest["files"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items()}
    with zipfile.ZipFile(dst, "w") as zout:
        for name, payload in members.items():
            zout.writestr(name, payload)
        zout.writestr("manifest.json", json.dumps(manifest))


def _rechain(rows: list) -> None:
    prev = audit.GENESIS_HASH
    for row in rows:
        if not isinstance(row, dict):
            continue
        row["prev_hash"] = prev
        full = {k: v for k, v in row.items() if k not in ("image", "row_hash")}
        try:
            row["row_hash"] = audit.row_hash(full)
        except ValueError:  # NaN is not JSON: hash it as Python's json writes it
            text = json.dumps(full, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            row["row_hash"] = hashlib.sha256(text.encode()).hexdigest()
        prev = row["row_hash"]


# --- the edits -------------------------------------------------------------------------
def _ref(data, index=0):
    return data["references.json"][index]


def _row(data, kind):
    return next(r for r in data["audit.json"] if r["kind"] == kind)


def _floats(values) -> str:
    return base64.b64encode(np.asarray(values, dtype="<f4").tobytes()).decode()


def _embedding(data, index=0) -> np.ndarray:
    return np.frombuffer(base64.b64decode(_ref(data, index)["embedding"]), dtype="<f4").copy()


def _set_embedding(data, values, index=0):
    _ref(data, index)["embedding"] = _floats(values)


def _shorten_every_embedding(data):
    """64 values where the model's embeddings have 128, consistently across the file."""
    for index in range(len(data["references.json"])):
        _set_embedding(data, _embedding(data, index)[:64], index)


def _nan_in_embedding(data):
    values = _embedding(data)
    values[3] = np.nan
    _set_embedding(data, values)


def _inf_in_embedding(data):
    values = _embedding(data)
    values[0] = np.inf
    _set_embedding(data, values)


def _undecodable_image(data, key):
    member = _ref(data)[key]
    data["members"][member] = PNG_MAGIC + b"\x00\x00\x00\x0dIHDR" + b"garbage" * 50


def _image_of_ref(pixels):
    """The first reference's capture replaced by `pixels`, a well-formed PNG."""

    def edit(data):
        data["members"][_ref(data)["image"]] = encode_png(pixels)

    return edit


def _rename_customer(data, new_id):
    old = data["customers.json"][0]["customer_id"]
    data["customers.json"][0]["customer_id"] = new_id
    for ref in data["references.json"]:
        if ref["customer_id"] == old:
            ref["customer_id"] = new_id


def _set(record_of, key, value):
    def edit(data):
        record_of(data)[key] = value

    return edit


def _drop(record_of, key):
    def edit(data):
        del record_of(data)[key]

    return edit


def _first_customer(data):
    return data["customers.json"][0]


def _audit_image(payload: bytes):
    """The questioned image of a verification replaced by `payload`, its hash in the
    row (and so the chain) made to match."""

    def edit(data):
        row = _row(data, "verification")
        data["members"][row["image"]] = payload
        row["image_sha256"] = hashlib.sha256(payload).hexdigest()

    return edit


def _ref_field(key: str, value, problem: str):
    """The first reference's `key` set to `value`, and what the refusal says of it."""
    return _set(_ref, key, value), f"the {key} field of reference 1 {problem}"


DAMAGES = {
    # embeddings
    "embedding_too_short": (lambda d: _set_embedding(d, _embedding(d)[:64]), "differ in length"),
    "embedding_empty": (_set(_ref, "embedding", ""), "empty or cut-off embedding"),
    "embedding_cut_off": (
        lambda d: _ref(d).update(embedding=base64.b64encode(b"\x00" * 510).decode()),
        "empty or cut-off embedding",
    ),
    "embedding_nan": (_nan_in_embedding, "not finite"),
    "embedding_inf": (_inf_in_embedding, "not finite"),
    "embedding_zeros": (lambda d: _set_embedding(d, np.zeros(len(_embedding(d)))), "of zeros"),
    "embedding_nearly_zeros": (
        lambda d: _set_embedding(d, np.full(len(_embedding(d)), 1e-9)),
        "of zeros",
    ),
    "embedding_not_base64": (_set(_ref, "embedding", "%%%%"), "not base64"),
    # images
    "reference_image_garbage": (lambda d: _undecodable_image(d, "image"), "cannot be decoded"),
    "canvas_garbage": (lambda d: _undecodable_image(d, "canvas"), "cannot be decoded"),
    # a capture no enrolment takes: the image the verification screen shows beside a
    # questioned signature, with an embedding that was never its own
    "reference_image_one_pixel": (
        _image_of_ref(np.full((1, 1), 255, np.uint8)),
        "holds no usable signature (image too small)",
    ),
    "reference_image_blank": (
        _image_of_ref(np.full((200, 600), 250, np.uint8)),
        "holds no usable signature (blank)",
    ),
    # text that cannot be stored: JSON escapes a lone surrogate ("\\ud800") as text
    "reference_source_lone_surrogate": _ref_field("source", "scan\ud800.png", "is not valid text"),
    "reference_model_id_lone_surrogate": _ref_field("model_id", "\udc80", "is not valid text"),
    # audit rows
    "audit_image_not_png": (_audit_image(b"MZ not a picture" * 64), "is not a PNG image"),
    "audit_time_words": (
        _set(lambda d: _row(d, "verification"), "time", "yesterday afternoon"),
        "the time field of audit row",
    ),
    "audit_time_without_zone": (
        _set(lambda d: _row(d, "verification"), "time", "2024-05-01T10:00:00"),
        "the time field of audit row",
    ),
    "audit_score_nan": (_set(lambda d: _row(d, "verification"), "score", float("nan")), "score"),
    "audit_score_above_one": (_set(lambda d: _row(d, "verification"), "score", 7.5), "score"),
    "audit_threshold_infinite": (
        _set(lambda d: _row(d, "thresholds_changed"), "t_accept", float("inf")),
        "t_accept",
    ),
    "audit_unknown_kind": (
        _set(lambda d: _row(d, "verification"), "kind", "coffee_break"),
        "unknown kind",
    ),
    "audit_unknown_decision": (
        _set(lambda d: _row(d, "teller_decision"), "teller_decision", "maybe"),
        "teller_decision field of audit row",
    ),
    "audit_decision_without_score": (
        _set(lambda d: _row(d, "verification"), "score", None),
        "decision without a score",
    ),
    "audit_reference_id_as_text": (
        _set(lambda d: _row(d, "verification"), "closest_reference_id", "seven"),
        "the closest_reference_id field of audit row",
    ),
    "audit_no_operator": (_drop(lambda d: _row(d, "enrolment"), "operator"), "no operator"),
    "audit_no_time": (_drop(lambda d: _row(d, "enrolment"), "time"), "no time"),
    "audit_not_a_list": (lambda d: d.update({"audit.json": {"rows": []}}), "not a list"),
    # customers: the rule enrolment applies, and the store's statuses
    "customer_id_unprintable": (lambda d: _rename_customer(d, "bad\nid"), "cannot be printed"),
    "customer_id_empty": (lambda d: _rename_customer(d, ""), "is empty"),
    "customer_id_too_long": (lambda d: _rename_customer(d, "9" * 65), "longer than"),
    "customer_id_padded": (lambda d: _rename_customer(d, " A "), "as enrolment stores it"),
    "customer_id_number": (lambda d: _rename_customer(d, 1001), "wrong type"),
    "customer_status_unknown": (_set(_first_customer, "status", "frozen"), "unknown status"),
    "customer_no_name": (_drop(_first_customer, "name"), "no name"),
    "customer_name_too_long": (
        _set(_first_customer, "name", "N" * 10_000),
        "the name field of customer 'A' is longer than enrolment allows "
        "(10000 characters; at most 200)",
    ),
    "customer_notes_too_long": (
        _set(_first_customer, "notes", "n" * 4001),
        "the notes field of customer 'A' is longer than enrolment allows",
    ),
    "customer_created_words": (_set(_first_customer, "created", "last year"), "created"),
    "customer_twice": (
        lambda d: d["customers.json"].append(dict(d["customers.json"][0])),
        "appears twice",
    ),
    # references: missing keys and wrong types
    "reference_no_quality": (_drop(_ref, "quality"), "no quality"),
    "reference_quality_text": _ref_field("quality", "good", "has the wrong type (str)"),
    "reference_active_text": _ref_field("active", "yes", "has the wrong type (str)"),
    "reference_quality_nan": (
        lambda d: _ref(d)["quality"].update(contrast=float("nan")),
        "quality with values that are not finite",
    ),
    "reference_dpi_text": (lambda d: _ref(d)["quality"].update(dpi="300"), "invalid dpi"),
    "reference_no_model_id": (_drop(_ref, "model_id"), "no model_id"),
    "reference_id_text": (
        _set(_ref, "id", "one"),
        "the id field of reference 'one' has the wrong type (str)",
    ),
    "reference_twice": (
        lambda d: d["references.json"].append(dict(_ref(d))),
        "appears twice",
    ),
    "reference_unknown_customer": (_set(_ref, "customer_id", "nobody"), "no customer"),
    "reference_retired_at_words": (
        lambda d: _ref(
            d, next(i for i, r in enumerate(d["references.json"]) if not r["active"])
        ).update(deactivated_at="soon"),
        "deactivated_at",
    ),
    # the manifest: its id goes into every imported row's origin, read back by pattern
    "export_id_wildcard": (lambda d: d["manifest"].update(export_id="%"), "export_id"),
}


@pytest.fixture
def target(tmp_path):
    """A store that already holds a customer, with its model's 128-value embeddings."""
    with Store(tmp_path / "target.db") as store:
        enrol.enrol_customer(store, FakeVerifier(), "Z", render_signatures(9, 3))
        yield store


def test_an_untouched_rewrite_imports(export_path, tmp_path, target):
    """The rewriting itself damages nothing, and every kind of record passes the checks."""
    copy = tmp_path / "copy.zip"
    rewrite_export(export_path, copy, lambda data: None)
    result = exchange.import_zip(target, copy, FakeVerifier())
    assert (result.customers, result.references) == (2, 8)
    assert records.get_customer(target.db, "B").status == "closed"
    kinds = {r["kind"] for r in audit.list_rows(target.db)}
    assert {"verification_failed", "identification", "thresholds_changed"} <= kinds
    assert audit.verify_chain(target.db).ok


def test_a_manifest_beyond_the_limit_is_refused_unread(export_path, target, monkeypatch):
    # A hostile zip can unpack a manifest of gigabytes from a few kilobytes: no more
    # than the limit is ever read into memory.
    from sigverify_gui.services import exchange_reader

    size = len(zipfile.ZipFile(export_path).read("manifest.json"))
    monkeypatch.setattr(exchange_reader, "MANIFEST_LIMIT", size - 1)
    before = store_contents(target)
    with pytest.raises(ExchangeError, match="oversized manifest"):
        exchange.import_zip(target, export_path, FakeVerifier())
    assert store_contents(target) == before


def test_an_audit_image_beyond_any_the_store_holds_is_refused_unread(
    export_path, tmp_path, target, monkeypatch
):
    # Read whole into memory, a hostile one of gigabytes would exhaust it; SQLite
    # refuses a blob over 1 GB with an error that had reached the teller as internal.
    from sigverify_gui.services import exchange_validate

    largest = max(i.file_size for i in zipfile.ZipFile(export_path).infolist())
    bad = tmp_path / "big.zip"
    rewrite_export(export_path, bad, _audit_image(PNG_MAGIC + bytes(largest + 100)))
    monkeypatch.setattr(exchange_validate, "MAX_FILE_BYTES", largest + 50)
    before = store_contents(target)
    with pytest.raises(ExchangeError, match=r"images/audit-\d+\.png is larger than any image"):
        exchange.import_zip(target, bad, FakeVerifier())
    assert store_contents(target) == before


@pytest.mark.parametrize("member", ["customers.json", "references.json", "audit.json"])
def test_records_beyond_the_limit_are_refused_unread(
    export_path, tmp_path, target, monkeypatch, member
):
    # A 3 MB zip can unpack a customers.json of gigabytes: it ran the import out of
    # memory ("unexpected internal error", or a PC brought to a halt).
    from sigverify_gui.services import exchange_reader

    with zipfile.ZipFile(export_path) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    largest = max(len(payload) for payload in members.values())
    members[member] += b" " * (largest + 1000)  # still valid JSON, and the largest
    manifest = json.loads(members["manifest.json"])
    manifest["files"][member] = hashlib.sha256(members[member]).hexdigest()
    members["manifest.json"] = json.dumps(manifest).encode()
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, payload in members.items():
            zout.writestr(name, payload)
    monkeypatch.setattr(exchange_reader, "RECORDS_LIMIT", len(members[member]) - 1)
    monkeypatch.setattr(zipfile.ZipFile, "read", _refuse_to_read(member))
    before = store_contents(target)
    with pytest.raises(ExchangeError, match=f"oversized {member}"):
        exchange.import_zip(target, big, FakeVerifier())
    assert store_contents(target) == before


def _refuse_to_read(member: str):
    real = zipfile.ZipFile.read

    def read(self, name, *args):
        assert name != member, f"{member} was read"
        return real(self, name, *args)

    return read


@pytest.mark.parametrize("member", ["manifest.json", "customers.json"])
def test_json_nested_past_pythons_limit_is_a_damaged_file(export_path, tmp_path, target, member):
    """json.loads raises RecursionError, not a JSON error, on "[[[[…": it had reached
    the teller as an internal error."""
    nested = b"[" * 100_000
    with zipfile.ZipFile(export_path) as zin:
        members = {n: zin.read(n) for n in zin.namelist()}
    if member == "manifest.json":
        members[member] = nested
    else:  # the manifest vouches for it: only parsing can tell
        members[member] = nested
        manifest = json.loads(members["manifest.json"])
        manifest["files"][member] = hashlib.sha256(nested).hexdigest()
        members["manifest.json"] = json.dumps(manifest).encode()
    bad = tmp_path / "nested.zip"
    with zipfile.ZipFile(bad, "w") as zout:
        for name, payload in members.items():
            zout.writestr(name, payload)
    before = store_contents(target)
    with pytest.raises(ExchangeError, match="'nested.zip'") as info:
        exchange.import_zip(target, bad, FakeVerifier())
    assert "not valid JSON" in str(info.value) or "no valid manifest" in str(info.value)
    assert store_contents(target) == before


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_a_damaged_record_is_refused_and_changes_nothing(export_path, tmp_path, target, damage):
    edit, fragment = DAMAGES[damage]
    bad = tmp_path / "bad.zip"
    rewrite_export(export_path, bad, edit)
    before = store_contents(target)
    with pytest.raises(ExchangeError) as info:
        exchange.import_zip(target, bad, FakeVerifier())
    message = str(info.value)
    assert message.startswith("'bad.zip' is damaged") and fragment in message
    assert "\n" not in message
    assert store_contents(target) == before


def _swap_customers_embeddings(data):
    """The attack the manifest's unkeyed hashes cannot stop: customer A's first
    reference given customer B's embedding (a forger enrolled as B passes as A),
    while A's genuine image stays beside it for the teller to see."""
    refs = data["references.json"]
    a = next(r for r in refs if r["customer_id"] == "A" and r["active"])
    b = next(r for r in refs if r["customer_id"] == "B" and r["active"])
    a["embedding"] = b["embedding"]


@pytest.mark.parametrize("edit", [_swap_customers_embeddings, _shorten_every_embedding])
def test_embeddings_their_images_do_not_give_are_refused(export_path, tmp_path, target, edit):
    bad = tmp_path / "altered.zip"
    rewrite_export(export_path, bad, edit)
    before = store_contents(target)
    with pytest.raises(ExchangeError, match="altered after it was exported: the embedding of "):
        exchange.import_zip(target, bad, FakeVerifier())
    assert store_contents(target) == before


def _another_models_embeddings(data):
    """Shorter embeddings, of a model this machine does not run."""
    _shorten_every_embedding(data)
    for ref in data["references.json"]:
        ref["model_id"] = "fake-0000"


def test_active_references_are_embedded_here_by_the_loaded_model(export_path, tmp_path):
    """Whatever model made the file's embeddings, the store gets the loaded model's,
    made from the images: verification and identification work at once, with nothing
    left to re-embed. Retired references (never compared) keep the file's."""
    other = tmp_path / "other-model.zip"
    rewrite_export(export_path, other, _another_models_embeddings)
    fake = FakeVerifier()
    with Store(tmp_path / "fresh.db") as store:
        exchange.import_zip(store, other, fake)
        assert reembed.count_stale(store, fake) == 0
        active = [r for cid in "AB" for r in records.references_of(store.db, cid)]
        assert {(r.model_id, len(r.embedding)) for r in active} == {("fake-0001", 128)}
        for ref in active:
            image_png, canvas_png = records.reference_images(store.db, ref.id)
            assert np.allclose(ref.embedding, fake.embed([gray_from_png(image_png)])[0], atol=1e-6)
        retired = records.references_of(store.db, "A", active_only=False)
        assert {r.model_id for r in retired if not r.active} == {"fake-0000"}
        result = verify.verify_signature(store, fake, "A", render_signatures(2, 1, 6)[0])
        assert result.decision == "accept"
        found = identify.identify_signature(store, fake, render_signatures(2, 1, 7)[0])
        assert found.candidates[0].customer_id == "A"
        import_row = next(r for r in audit.list_rows(store.db) if r["kind"] == "import")
        assert json.loads(import_row["detail"])["embedded_by"] == "fake-0001"


def test_a_reference_the_model_cannot_read_stops_the_import(export_path, target, monkeypatch):
    """The file's checks refuse a capture that holds no signature; a later model's
    preprocessing may still refuse one that an earlier model took."""
    import model.preprocess

    real, calls = model.preprocess.preprocess, []

    def refuses_the_third(image, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise BlankImageError("No signature ink was found in the image.")
        return real(image, *args, **kwargs)

    monkeypatch.setattr(model.preprocess, "preprocess", refuses_the_third)
    before = store_contents(target)
    with pytest.raises(ExchangeError, match="cannot be read by this model .*export again"):
        exchange.import_zip(target, export_path, FakeVerifier())
    assert store_contents(target) == before


def test_a_cancelled_import_imports_nothing(export_path, target):
    progress = NullProgress()
    progress.cancel()
    before = store_contents(target)
    with pytest.raises(CancelledError):
        exchange.import_zip(target, export_path, FakeVerifier(), progress=progress)
    assert store_contents(target) == before


@pytest.mark.parametrize(
    "damage", ["embedding_too_short", "reference_no_quality", "customer_id_unprintable"]
)
def test_the_cli_reports_a_damaged_file_in_one_line(
    export_path, tmp_path, monkeypatch, capsys, damage
):
    monkeypatch.setattr(cli, "COMMAND_MODULES", ["import_zip"])
    monkeypatch.setattr(
        runtime, "load_verifier", lambda weights=None, device="auto": FakeVerifier()
    )
    db = tmp_path / "cli.db"
    with Store(db) as store:
        enrol.enrol_customer(store, FakeVerifier(), "Z", render_signatures(9, 3))
        before = store_contents(store)
    bad = tmp_path / "bad.zip"
    rewrite_export(export_path, bad, DAMAGES[damage][0])
    code = cli.main(["import", str(bad), "--db", str(db)])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("error: 'bad.zip' is damaged") and err.count("\n") == 1
    assert DAMAGES[damage][1] in err and "Traceback" not in err
    with Store(db) as store:
        assert store_contents(store) == before


def test_every_audit_kind_the_services_write_is_importable():
    """A service that starts writing a new kind must add it to AUDIT_KINDS, or its
    own store's exports would be refused."""
    package = Path(__file__).resolve().parent.parent / "sigverify_gui"
    written = set()
    for source in package.rglob("*.py"):
        written |= set(re.findall(r'audit\.append\(\s*db,\s*"(\w+)"', source.read_text()))
    assert {"enrolment", "verification", "import"} <= written  # the pattern still finds them
    assert written <= AUDIT_KINDS


def test_format_1_is_read_and_a_newer_format_is_named_not_called_damaged(
    export_path, tmp_path, target
):
    # Format 2 may hold audit rows of exports and backups, which versions reading only
    # format 1 do not know: bumped, they say "a newer format", not "damaged".
    older, newer = tmp_path / "older.zip", tmp_path / "newer.zip"
    rewrite_export(export_path, older, lambda d: d["manifest"].update(format_version=1))
    rewrite_export(export_path, newer, lambda d: d["manifest"].update(format_version=3))
    before = store_contents(target)
    with pytest.raises(ExchangeError, match="written in export format 3; .* reads formats 1 and 2"):
        exchange.import_zip(target, newer, FakeVerifier())
    assert store_contents(target) == before
    assert exchange.import_zip(target, older, FakeVerifier()).customers == 2


@pytest.mark.parametrize("version", ["2", 2.0, True, None])
def test_a_format_version_that_is_not_a_number_is_called_damaged_not_newer(
    export_path, tmp_path, target, version
):
    # "2" had been "written in export format 2; this version reads formats 1 and 2",
    # and true (== 1 in Python) had been read as format 1.
    edited = tmp_path / "edited.zip"
    rewrite_export(export_path, edited, lambda d: d["manifest"].update(format_version=version))
    before = store_contents(target)
    with pytest.raises(ExchangeError) as info:
        exchange.import_zip(target, edited, FakeVerifier())
    number = "a whole number" if version == 2.0 and version is not True else "a number"
    as_written = {True: "true", None: "null"}.get(version, repr(version))  # JSON's words
    assert str(info.value) == (
        f"'edited.zip' is damaged: its manifest's format_version is not {number} "
        f"({as_written}); export the store again."
    )
    assert store_contents(target) == before


def test_a_manifest_without_format_version_says_so(export_path, tmp_path, target):
    # It had read "format_version is not a number (None)": a value the file never held.
    edited = tmp_path / "edited.zip"
    rewrite_export(export_path, edited, lambda d: d["manifest"].pop("format_version"))
    before = store_contents(target)
    with pytest.raises(ExchangeError) as info:
        exchange.import_zip(target, edited, FakeVerifier())
    assert str(info.value) == (
        "'edited.zip' is damaged: its manifest has no format_version; export the store again."
    )
    assert store_contents(target) == before


def _cut_last_customer(data) -> None:
    """The file's last customer and that customer's references taken out."""
    gone = data["customers.json"].pop()["customer_id"]
    data["references.json"] = [r for r in data["references.json"] if r["customer_id"] != gone]


@pytest.mark.parametrize(
    "edit, fragment",
    [
        (_cut_last_customer, "the manifest counts 2 customers, and the file holds 1."),
        (
            lambda d: d["manifest"]["counts"].update(references=99),
            "the manifest counts 99 references, and the file holds ",
        ),
        (
            lambda d: d["manifest"]["counts"].update(audit_rows="7"),
            "the manifest counts '7' audit rows, and the file holds ",
        ),
        (lambda d: d["manifest"].pop("counts"), "the manifest has no counts."),
    ],
    ids=["customer cut out", "references", "audit rows as text", "no counts"],
)
def test_a_manifest_whose_counts_are_not_the_contents_is_refused(
    export_path, tmp_path, target, edit, fragment
):
    """Every export writes them; they had been accepted without comment."""
    edited = tmp_path / "edited.zip"
    rewrite_export(export_path, edited, edit)
    before = store_contents(target)
    with pytest.raises(ExchangeError) as info:
        exchange.import_zip(target, edited, FakeVerifier())
    assert str(info.value).startswith(f"'edited.zip' is damaged: {fragment}")
    assert store_contents(target) == before
