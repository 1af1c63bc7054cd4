"""Export and import of a store's contents as one zip file (moving a branch's data).

The zip holds `manifest.json` (format name and version, the export's id, counts and
the SHA-256 of every other member), `customers.json`, `references.json` (embeddings as
base64 float32, with their model ids), `audit.json`, and the PNGs under `images/`.

Import checks the whole file before touching the store (`exchange_reader`, and every
record's fields in `exchange_validate`), then writes everything in one transaction: a
bad file changes nothing. It trusts the file's images, not its embeddings: every active
reference is embedded here by the loaded model (`exchange_embed`). Images are streamed
a batch at a time in both directions, never all held in memory: a branch's store can
hold gigabytes of scans.

Customers already in the store are refused unless `replace` is given, which replaces
them and their references. A new customer whose number differs only in letter case
from another's, in the store or in the file, is refused whatever `replace` says
(`customer_case`), and so is a reference that is the very image of a reference of a
customer the file does not bring, unless `force` is given (as enrolment refuses one
scan under two numbers, `enrol_shared`). Imported audit rows are appended to this
store's own chain (new ids, chained to this store's last row), each keeping its original
id and hash in `origin` (the first store's, through every further export); a row the
store already holds, its own or imported before, is not appended twice.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import uuid
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.errors import os_reason
from model.progress import NullProgress, Progress
from sigverify_gui import __version__
from sigverify_gui.services.customer_case import case_conflicts
from sigverify_gui.services.errors import (
    AlreadyEnrolledError,
    ConsistencyError,
    ExchangeError,
)
from sigverify_gui.services.exchange_embed import PreparedReferences, prepare_references
from sigverify_gui.services.exchange_reader import (
    FORMAT_NAME,
    FORMAT_VERSION,
    ExportFile,
    open_export,
)
from sigverify_gui.services.exchange_thresholds import thresholds_notice
from sigverify_gui.services.typed_text import kept_line, kept_lines
from sigverify_gui.services.verifier_protocol import VerifierLike
from sigverify_gui.store import audit, records
from sigverify_gui.store.db import Store
from sigverify_gui.store.errors import StoreError
from sigverify_gui.store.files import remove_quietly, sha256_of_file, written_whole
from sigverify_gui.store.schema import AUDIT_TABLE, REFERENCES_TABLE

log = logging.getLogger("sigverify.exchange")


@dataclass(frozen=True)
class ExchangeSummary:
    customers: int
    references: int
    audit_rows: int
    replaced: tuple[str, ...] | None = None  # an import's customers; None: an export
    export_id: str = ""
    notices: tuple[str, ...] = ()  # what an import tells IT beside its counts

    def to_dict(self) -> dict[str, Any]:
        counts = {
            "customers": self.customers,
            "references": self.references,
            "audit_rows": self.audit_rows,
        }
        replaced = {} if self.replaced is None else {"replaced": list(self.replaced)}
        notices = {"notices": list(self.notices)} if self.notices else {}
        return counts | replaced | {"export_id": self.export_id} | notices


# --- export ----------------------------------------------------------------------------
class _ZipWriter:
    """Members written one by one into the zip at `path`, each hashed for the manifest.

    A context manager: leaving it closes the zip. When the block failed, a failure to
    close (a full disk fails both) is only logged, so that the first failure is the
    one reported.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.digests: dict[str, str] = {}

    def __enter__(self) -> _ZipWriter:
        self._raw = open(self.path, "wb")  # noqa: SIM115 (closed by __exit__)
        try:
            self._zip = zipfile.ZipFile(self._raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        except BaseException:
            self._raw.close()
            raise
        return self

    def __exit__(self, failure: type[BaseException] | None, *rest: object) -> None:
        for close in (self._zip.close, self._raw.close):
            try:
                close()
            except (OSError, ValueError) as err:
                if failure is None:
                    raise
                log.warning("closing the abandoned export %s: %s", self.path, err)

    def add(self, name: str, data: bytes, hashed: bool = True) -> None:
        # PNGs are already compressed; deflating them again only costs time.
        kind = zipfile.ZIP_STORED if name.endswith(".png") else zipfile.ZIP_DEFLATED
        self._zip.writestr(name, data, compress_type=kind)
        if hashed:
            self.digests[name] = hashlib.sha256(data).hexdigest()


def export_zip(store: Store, target: str | Path, *, operator: str = "") -> ExchangeSummary:
    """Write every customer, reference (with images) and audit row to `target`, and
    record who did (`record_copy`)."""
    target = Path(target).expanduser()
    if target.exists():
        raise ExchangeError(f"{target} already exists; choose a new file name.")
    try:
        with written_whole(target) as partial, _ZipWriter(partial) as writer:
            with store.snapshot() as db:  # one consistent state, even while others write
                _refuse_a_broken_trail(db)
                summary = _export_into(db, writer)
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "export_id": summary.export_id,
                "created": audit.now_utc(),
                "app_version": __version__,
                "counts": {k: v for k, v in summary.to_dict().items() if isinstance(v, int)},
                "files": writer.digests,
            }
            writer.add("manifest.json", _json(manifest), hashed=False)
    except OSError as err:
        raise _not_written(target, err) from err
    record_copy(store, "export", operator, target, summary.to_dict())
    return summary


def backup_store(store: Store, target: str | Path, *, operator: str = "") -> tuple[Path, str]:
    """`Store.backup`, recorded as an export is (`record_copy`) with the file's SHA-256,
    which a restore names too: the two rows tell which backup came back. Returns the
    file and its SHA-256."""
    written = store.backup(target)
    try:
        digest = sha256_of_file(written)
    except OSError as err:  # removed or unreadable at once: nothing to keep or record
        remove_quietly(written)
        reason = os_reason(err)
        raise StoreError(f"The backup to {written} could not be read back: {reason}.") from err
    record_copy(store, "backup", operator, written, {"sha256": digest})
    return written, digest


def record_copy(store: Store, kind: str, operator: str, target: Path, detail: dict) -> bool:
    """An audit row for a copy of the whole store ("export" or "backup"): every
    customer's signatures leave the store in it, and an auditor asks who took them
    where. A read-only store (an archive IT exports) cannot record it: said in the
    log, and False."""
    if store.read_only:
        log.warning("the %s to %s is not in the audit trail: the store is read-only", kind, target)
        return False
    where = {"file": os.path.abspath(target)}  # "copy.db" alone would say where to nobody
    try:
        with store.write() as db:
            audit.append(db, kind, operator, detail=json.dumps(where | detail, sort_keys=True))
    except StoreError as err:  # busy, full: no copy may leave unrecorded
        remove_quietly(Path(target))
        raise StoreError(
            f"The {kind} to {target} was not kept, since it could not be recorded in the "
            f"audit trail: {err}"
        ) from err
    return True


def _refuse_a_broken_trail(db) -> None:
    """An import checks the chain of the file's audit rows and refuses a broken one:
    an export of a store whose trail is already broken could never be brought back,
    and its error would blame the file."""
    report = audit.verify_chain(db)
    if not report.ok:
        raise ExchangeError(
            f"This store's audit trail is broken at row {report.broken_at} "
            f"({report.problem}), so an export of it could not be imported; copy the "
            "store with a backup instead, and have IT look into the trail."
        )


def _not_written(target: Path, err: OSError) -> ExchangeError:
    # The reason in words ("No space left on device"), not Python's "[Errno 28] ..."
    # naming the temporary file.
    return ExchangeError(f"The export to {target} could not be written: {os_reason(err)}.")


def _export_into(db, writer: _ZipWriter) -> ExchangeSummary:
    customers = [
        {k: v for k, v in c.to_dict().items() if k != "active_references"}
        for c in records.list_customers(db)
    ]
    references = []
    cursor = db.execute(f"SELECT * FROM {REFERENCES_TABLE} ORDER BY id")
    names = [d[0] for d in cursor.description]
    for values in cursor:
        ref = dict(zip(names, values, strict=True))
        image, canvas = f"images/ref-{ref['id']}.png", f"images/canvas-{ref['id']}.png"
        writer.add(image, bytes(ref["image_png"]))
        writer.add(canvas, bytes(ref["canvas_png"]))
        references.append(
            {
                "id": ref["id"],
                "customer_id": ref["customer_id"],
                "image": image,
                "canvas": canvas,
                "embedding": base64.b64encode(bytes(ref["embedding"])).decode("ascii"),
                "model_id": ref["model_id"],
                "quality": json.loads(ref["quality_json"]),
                "source": ref["source"],
                "captured_at": ref["captured_at"],
                "active": bool(ref["active"]),
                "deactivated_at": ref["deactivated_at"],
                "replaced_by": ref["replaced_by"],
            }
        )
    audit_rows = []
    cursor = db.execute(f"SELECT * FROM {AUDIT_TABLE} ORDER BY id")
    names = [d[0] for d in cursor.description]
    for values in cursor:
        entry = dict(zip(names, values, strict=True))
        image_png = entry.pop("image_png")
        if image_png is not None:
            entry["image"] = f"images/audit-{entry['id']}.png"
            writer.add(entry["image"], bytes(image_png))
        audit_rows.append(entry)
    writer.add("customers.json", _json(customers))
    writer.add("references.json", _json(references))
    writer.add("audit.json", _json(audit_rows))
    return ExchangeSummary(
        len(customers), len(references), len(audit_rows), export_id=uuid.uuid4().hex
    )


def _json(value: Any) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True).encode("utf-8")


# --- import ----------------------------------------------------------------------------
def import_zip(
    store: Store,
    source: str | Path,
    verifier: VerifierLike,
    *,
    replace: bool = False,
    force: bool = False,
    operator: str = "",
    progress: Progress | None = None,
) -> ExchangeSummary:
    """Import an export atomically; existing customers need `replace`, images another
    customer of this store holds need `force`. The references are embedded here by
    `verifier` (`exchange_embed`); `progress` may cancel, which imports nothing."""
    progress = progress or NullProgress()
    with open_export(source) as export:
        export_id = export.manifest["export_id"]  # checked: 32 hex digits
        incoming = [c["customer_id"] for c in export.customers]
        with store.snapshot() as db:  # a doomed import says so before embedding anything
            _refuse_conflicts(db, incoming, replace)
        with (
            prepare_references(
                export, verifier, Path(source).name, progress, store.path.parent
            ) as prepared,
            store.write() as db,
        ):
            # Again under the lock: another workstation may have enrolled meanwhile.
            existing = _refuse_conflicts(db, incoming, replace)
            for cid in existing:
                records.delete_customer(db, cid)
            for cust in export.customers:
                cid = cust["customer_id"]
                name, notes = kept_line(cust["name"]), kept_lines(cust["notes"])
                records.insert_customer(db, cid, name, notes, cust["created"])
                if cust["status"] != "active":
                    records.set_customer_status(db, cid, cust["status"])
            last_before = db.execute(f"SELECT max(id) FROM {REFERENCES_TABLE}").fetchone()[0]
            ref_ids = _import_references(db, export, prepared)
            shared = _images_of_other_customers(db, last_before or 0, ref_ids)
            if shared and not force:
                raise ConsistencyError(_shared_message(shared))
            audit_count = _import_audit(db, export, export_id, ref_ids)
            notice = thresholds_notice(store, export.audit_rows, verifier)
            summary = ExchangeSummary(
                len(export.customers),
                len(ref_ids),
                audit_count,
                tuple(existing),
                export_id,
                (notice,) if notice else (),
            )
            audit.append(
                db,
                "import",
                operator,
                detail=json.dumps(
                    {"file": Path(source).name, **summary.to_dict()}
                    | {"embedded_by": verifier.model_id}
                    | ({"shared_with": shared} if shared else {}),
                    sort_keys=True,
                ),
            )
    return summary


def _refuse_conflicts(db, incoming: list[str], replace: bool) -> list[str]:
    """The file's customers this store already holds (which `replace` allows); raises
    for a number that differs from another only in letter case or character width
    (`customer_case`: `replace` would not help, so that is said first), and for
    customers already enrolled without `replace`."""
    conflicts = case_conflicts(db, incoming)
    if conflicts:
        pairs = [f"{new} vs {other}" for new, other in conflicts[:5]]
        shown = ", ".join(pairs) + (" ..." if len(conflicts) > 5 else "")
        raise ExchangeError(
            f"{len(conflicts)} customer(s) in the file differ only in letter case or "
            f"character width from another customer ({shown}); numbers must differ by "
            "more than that, so nothing was imported."
        )
    existing = [cid for cid in incoming if records.get_customer(db, cid) is not None]
    if existing and not replace:
        shown = ", ".join(existing[:5]) + (" ..." if len(existing) > 5 else "")
        raise AlreadyEnrolledError(
            f"{len(existing)} customer(s) in the file are already enrolled ({shown}); "
            "nothing was imported. Importing with replacement overwrites them."
        )
    return existing


def _import_references(db, export: ExportFile, prepared: PreparedReferences) -> dict[int, int]:
    new_ids: dict[int, int] = {}
    for ref, image_png, made in prepared:
        new_ids[ref["id"]] = records.insert_reference(
            db,
            ref["customer_id"],
            image_png=image_png,
            canvas_png=made.canvas_png,
            embedding=made.embedding,
            model_id=made.model_id,
            quality=ref["quality"],
            source=ref["source"],
            captured_at=ref["captured_at"],
        )
    for ref in export.references:
        if not ref["active"]:
            replaced_by = new_ids.get(ref["replaced_by"]) if ref.get("replaced_by") else None
            db.execute(
                f"UPDATE {REFERENCES_TABLE} SET active = 0, deactivated_at = ?, replaced_by = ? "
                "WHERE id = ?",
                [ref.get("deactivated_at"), replaced_by, new_ids[ref["id"]]],
            )
    return new_ids


def _images_of_other_customers(db, last_before: int, ref_ids: dict[int, int]) -> list[dict]:
    """Imported active references that are byte for byte an active reference this store
    held before (a customer the file does not bring: those it brings were replaced).
    The same scan within the file was the first store's to allow."""
    file_id = {new: old for old, new in ref_ids.items()}
    rows = db.execute(
        f"""SELECT new.customer_id, new.id, held.customer_id, held.id
            FROM {REFERENCES_TABLE} AS new JOIN {REFERENCES_TABLE} AS held
              ON held.image_sha256 = new.image_sha256
            WHERE new.id > ? AND held.id <= ? AND new.active = 1 AND held.active = 1
            ORDER BY new.id, held.customer_id""",
        [last_before, last_before],
    ).fetchall()
    return [
        {
            "customer_id": cid,
            "reference_id": new_id,
            "file_reference_id": file_id[new_id],
            "other_customer_id": other,
            "other_reference_id": other_id,
        }
        for cid, new_id, other, other_id in rows
    ]


def _shared_message(shared: list[dict]) -> str:
    shown = "; ".join(
        f"customer {s['customer_id']}'s reference {s['file_reference_id']} in the file is "
        f"the same image as a reference of customer {s['other_customer_id']}"
        for s in shared[:3]
    ) + (f"; and {len(shared) - 3} more" if len(shared) > 3 else "")
    return (
        f"{shown}. Each customer's references must be their own signatures, so nothing "
        "was imported; a supervisor may import anyway when one person holds both "
        "customer numbers."
    )


# Where an imported row came from: the export, and the row's number and hash there.
_ORIGIN = re.compile(r"export:[0-9a-f]{32}:row:(\d+):([0-9a-f]{64})")


def imported_note(origin: str | None) -> str | None:
    """How the audit listing and History mark a row an import brought (another store's
    history: a thresholds change there set nothing here); None for this store's own."""
    found = _ORIGIN.fullmatch(origin or "")
    return f"imported: row {found[1]} of another store" if found else None


def _first_written(origin: str | None, row_id: int, row_hash: str) -> tuple[int, str]:
    """The number and hash a row had in the store that first wrote it: a row keeps
    them in `origin` through every import, its own otherwise."""
    found = _ORIGIN.fullmatch(origin or "")
    return (int(found[1]), found[2]) if found else (int(row_id), row_hash)


def _import_audit(db, export: ExportFile, export_id: str, ref_ids: dict[int, int]) -> int:
    """Append the export's audit rows to this trail; returns how many were appended.

    A row this trail already holds is not appended again, or a branch's history would
    read twice: one it wrote itself (the export was made from this store, or a copy of
    it, and is now restored into it), or one it imported before, from this export or
    another export of the same store, directly or through another store. A row is
    known by the number and hash it had where it was first written (`_first_written`)."""
    held = {
        _first_written(origin, row_id, row_hash): int(row_id)
        for row_id, row_hash, origin in db.execute(
            f"SELECT id, row_hash, origin FROM {AUDIT_TABLE}"
        )
    }
    new_ids: dict[int, int] = {}
    appended = 0
    for row in export.audit_rows:
        first = _first_written(row.get("origin"), row["id"], row["row_hash"])
        if first in held:
            new_ids[int(row["id"])] = held[first]
            continue
        fields = {k: row.get(k) for k in audit.WRITABLE_FIELDS if k not in ("kind", "operator")}
        fields["image_png"] = export.read(row["image"]) if row.get("image") else None
        if row.get("closest_reference_id") is not None:
            fields["closest_reference_id"] = ref_ids.get(int(row["closest_reference_id"]))
        if row.get("verification_id") is not None:
            fields["verification_id"] = new_ids.get(int(row["verification_id"]))
        if not _ORIGIN.fullmatch(row.get("origin") or ""):  # else it keeps the first
            fields["origin"] = f"export:{export_id}:row:{row['id']}:{row['row_hash']}"
        new_ids[int(row["id"])] = held[first] = audit.append(
            db, row["kind"], row["operator"], at=row["time"], **fields
        )
        appended += 1
    return appended
