"""The store's schema, as an ordered list of migration steps (sqlite-utils `Migrations`).

Each step runs once per database, inside the transaction that records it, so opening
an older file upgrades it in place and a crash mid-step leaves it as it was. Steps are
never edited once released: a change to the schema is a new step at the end.

Tables:
- `customers`: one row per account, keyed by the account number as text.
- `reference_signatures`: a customer's enrolled signatures ("references"; the word is
  an SQL keyword, hence the longer name): the capture as PNG, the preprocessed canvas as
  PNG, the embedding (float32 bytes) with the id of the model that made it, and the
  capture's SHA-256 (to find one image enrolled under two customers). Ids are never
  reused (AUTOINCREMENT since v5): audit rows name references by id.
- `audit_log`: the tamper-evident audit trail of verifications, teller decisions,
  identifications and enrolments; append-only (triggers refuse UPDATE and DELETE), each
  row hashed together with the previous row's hash (see `store.audit`).
- `settings`: key/value text (thresholds set by the branch, for example).
- `change_counter`: one number that triggers raise on every change to references or
  customers, so cached embedding matrices and the customer list can tell in one tiny
  query whether they are stale, whichever connection or process made the change.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

MIGRATION_SET = "sigverify"
AUDIT_TABLE = "audit_log"
REFERENCES_TABLE = "reference_signatures"

migrations = Migrations(MIGRATION_SET)
STEPS: list[str] = []  # every step's name, in order


def _step(name: str):
    STEPS.append(name)
    return migrations(name=name)


def _run_script(db: Database, sql: str) -> None:
    # executescript() would COMMIT the surrounding migration transaction; run the
    # statements one by one so that the step and its record commit together.
    for statement in _split_statements(sql):
        db.execute(statement)


def _split_statements(sql: str) -> list[str]:
    import sqlite3

    statements, current = [], ""
    for line in sql.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements


@_step("v1_initial")
def v1_initial(db: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE customers (
            customer_id TEXT PRIMARY KEY NOT NULL,
            name TEXT NOT NULL DEFAULT '',
            status TEXT NOT NULL DEFAULT 'active',
            created TEXT NOT NULL,
            notes TEXT NOT NULL DEFAULT ''
        );
        CREATE TABLE reference_signatures (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL REFERENCES customers(customer_id),
            image_png BLOB NOT NULL,
            canvas_png BLOB NOT NULL,
            embedding BLOB NOT NULL,
            model_id TEXT NOT NULL,
            quality_json TEXT NOT NULL,
            source TEXT NOT NULL,
            captured_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1
        );
        CREATE INDEX reference_signatures_by_customer
            ON reference_signatures (customer_id, active);
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            time TEXT NOT NULL,
            operator TEXT NOT NULL,
            customer_id TEXT,
            image_png BLOB,
            image_sha256 TEXT,
            score REAL,
            system_decision TEXT,
            teller_decision TEXT,
            override_reason TEXT,
            closest_reference_id INTEGER,
            model_id TEXT,
            t_accept REAL,
            t_reject REAL,
            verification_id INTEGER,
            detail TEXT,
            prev_hash TEXT NOT NULL,
            row_hash TEXT NOT NULL
        );
        CREATE INDEX audit_log_by_customer ON audit_log (customer_id);
        CREATE INDEX audit_log_by_verification ON audit_log (verification_id);
        CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit rows are never changed');
        END;
        CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
        BEGIN
            SELECT RAISE(ABORT, 'audit rows are never deleted');
        END;
        CREATE TABLE settings (
            key TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL
        );
        CREATE TABLE change_counter (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            generation INTEGER NOT NULL
        );
        INSERT INTO change_counter (id, generation) VALUES (1, 0);
        CREATE TRIGGER references_changed_insert AFTER INSERT ON reference_signatures
        BEGIN
            UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        END;
        CREATE TRIGGER references_changed_update AFTER UPDATE ON reference_signatures
        BEGIN
            UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        END;
        CREATE TRIGGER references_changed_delete AFTER DELETE ON reference_signatures
        BEGIN
            UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        END;
        CREATE TRIGGER customers_changed_update AFTER UPDATE ON customers
        BEGIN
            UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        END;
        CREATE TRIGGER customers_changed_delete AFTER DELETE ON customers
        BEGIN
            UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        END;
        """,
    )


@_step("v2_reference_history_and_audit_origin")
def v2_reference_history_and_audit_origin(db: Database) -> None:
    # When and by what a reference was retired, so a replaced signature can be traced;
    # and where an audit row came from when it was imported from another branch's
    # export. New audit columns are nullable: the row hash leaves NULL fields out, so
    # rows written before this step still verify.
    _run_script(
        db,
        """
        ALTER TABLE reference_signatures ADD COLUMN deactivated_at TEXT;
        ALTER TABLE reference_signatures ADD COLUMN replaced_by INTEGER;
        ALTER TABLE audit_log ADD COLUMN origin TEXT;
        """,
    )


@_step("v3_reference_image_digest")
def v3_reference_image_digest(db: Database) -> None:
    # The SHA-256 of each reference's capture, indexed, so that enrolment can find the
    # very image already enrolled under another customer without reading every image.
    # Filled in here for the references already stored, one image at a time.
    import hashlib

    db.execute(f"ALTER TABLE {REFERENCES_TABLE} ADD COLUMN image_sha256 TEXT")
    ids = [row[0] for row in db.execute(f"SELECT id FROM {REFERENCES_TABLE}").fetchall()]
    for reference_id in ids:
        (png,) = db.execute(
            f"SELECT image_png FROM {REFERENCES_TABLE} WHERE id = ?", [reference_id]
        ).fetchone()
        db.execute(
            f"UPDATE {REFERENCES_TABLE} SET image_sha256 = ? WHERE id = ?",
            [hashlib.sha256(bytes(png)).hexdigest(), reference_id],
        )
    db.execute(f"CREATE INDEX reference_signatures_by_image ON {REFERENCES_TABLE} (image_sha256)")


@_step("v4_new_customers_counted")
def v4_new_customers_counted(db: Database) -> None:
    # v1 raised the change counter on a customer's update or deletion and on any change
    # to references, but not on a new customer, whose references came in the same
    # transaction; a customer list that re-reads only when the counter moved must also
    # see a customer without references (an import, another program). Older versions
    # open the file as before: the trigger only raises the counter.
    _run_script(
        db,
        """
        CREATE TRIGGER customers_changed_insert AFTER INSERT ON customers
        BEGIN
            UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        END;
        """,
    )


# Every id a row of the store may name a reference by: the references' own ids and the
# ids they were replaced by, an audit row's closest reference, and the ids in its detail
# (enrolled, replaced, retired, shared with, scored). Some SQLite versions quote the
# keys in json_tree's paths, hence the replace().
_NAMED_REFERENCE_IDS = f"""
    SELECT max(id) AS n FROM {REFERENCES_TABLE}
    UNION ALL SELECT max(replaced_by) FROM {REFERENCES_TABLE}
    UNION ALL SELECT max(closest_reference_id) FROM {AUDIT_TABLE}
    UNION ALL SELECT max(CAST(tree.value AS INTEGER))
        FROM {AUDIT_TABLE}, json_tree({AUDIT_TABLE}.detail) AS tree
        WHERE json_valid({AUDIT_TABLE}.detail) AND tree.type = 'integer'
          AND (tree.key IN ('reference_id', 'replaced', 'closest_reference_id')
               OR replace(tree.path, '"', '') LIKE '%.reference_ids')
"""


@_step("v5_reference_ids_never_reused")
def v5_reference_ids_never_reused(db: Database) -> None:
    # Without AUTOINCREMENT SQLite gives a new row the highest id in the table plus one,
    # so after `import --replace` deleted a customer's references a new reference could
    # take one of their ids, and old audit rows would then name another person's
    # signature. The table is rebuilt with AUTOINCREMENT (SQLite's way to change a
    # column's definition), and its sequence starts above every id anything names, so
    # an id deleted before this step is not handed out again either.
    _run_script(
        db,
        f"""
        CREATE TABLE reference_signatures_v5 (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            customer_id TEXT NOT NULL REFERENCES customers(customer_id),
            image_png BLOB NOT NULL,
            canvas_png BLOB NOT NULL,
            embedding BLOB NOT NULL,
            model_id TEXT NOT NULL,
            quality_json TEXT NOT NULL,
            source TEXT NOT NULL,
            captured_at TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            deactivated_at TEXT,
            replaced_by INTEGER,
            image_sha256 TEXT
        );
        INSERT INTO reference_signatures_v5 (
            id, customer_id, image_png, canvas_png, embedding, model_id, quality_json,
            source, captured_at, active, deactivated_at, replaced_by, image_sha256)
        SELECT id, customer_id, image_png, canvas_png, embedding, model_id, quality_json,
            source, captured_at, active, deactivated_at, replaced_by, image_sha256
        FROM {REFERENCES_TABLE};
        """,
    )
    (highest,) = db.execute(f"SELECT coalesce(max(n), 0) FROM ({_NAMED_REFERENCE_IDS})").fetchone()
    _run_script(
        db,
        f"""
        DROP TABLE {REFERENCES_TABLE};
        ALTER TABLE reference_signatures_v5 RENAME TO {REFERENCES_TABLE};
        DELETE FROM sqlite_sequence WHERE name = '{REFERENCES_TABLE}';
        INSERT INTO sqlite_sequence (name, seq) VALUES ('{REFERENCES_TABLE}', {int(highest)});
        CREATE INDEX reference_signatures_by_customer
            ON {REFERENCES_TABLE} (customer_id, active);
        CREATE INDEX reference_signatures_by_image ON {REFERENCES_TABLE} (image_sha256);
        UPDATE change_counter SET generation = generation + 1 WHERE id = 1;
        """,
    )
    for event in ("insert", "update", "delete"):  # dropped with the old table
        db.execute(
            f"CREATE TRIGGER references_changed_{event} AFTER {event.upper()}"
            f" ON {REFERENCES_TABLE} BEGIN"
            " UPDATE change_counter SET generation = generation + 1 WHERE id = 1; END"
        )


# Indexes that change no data, which a version before them does without: made when a
# writable store opens, not recorded as steps, so that the version before can still
# open the store (and its backups), and an archived store opens read-only without an
# upgrade. Every verification reads the trail's last change of the thresholds (to hold
# the setting against it, `services.thresholds_record`): without the index by kind that
# would read back through every verification since.
SPEED_INDEXES = {
    "audit_log_by_kind": f"CREATE INDEX IF NOT EXISTS audit_log_by_kind ON {AUDIT_TABLE} (kind)",
}


def missing_speed_indexes(db: Database) -> list[str]:
    present = {
        name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    }
    return [name for name in SPEED_INDEXES if name not in present]


def add_speed_indexes(db: Database, names: list[str]) -> None:
    for name in names:
        db.execute(SPEED_INDEXES[name])


def applied_steps(db: Database) -> list[str]:
    return [m.name for m in migrations.applied(db)]


def pending_steps(db: Database) -> list[str]:
    return [m.name for m in migrations.pending(db)]
