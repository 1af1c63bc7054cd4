"""Enrolling a whole data set folder from the GUI (`services.bulk`), in a worker.

Each writer is its own enrolment, so cancelling keeps the writers already enrolled
and a second run skips them; the summary says what happened to each, and after a
cancel how many were enrolled before it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sigverify_gui.services.bulk import BulkEnrolmentCancelled, BulkEnrolmentReport
from sigverify_gui.ui.qt import QFileDialog, QMessageBox, Qt
from sigverify_gui.ui.workers import BackgroundTask, run_in_background


def ask_folder(parent) -> str:
    return QFileDialog.getExistingDirectory(parent, "Enrol every writer of a folder")


def start_folder_enrolment(
    context,
    verifier,
    folder: str | Path,
    parent,
    on_done: Callable[[BulkEnrolmentReport], None],
    on_error: Callable[[BaseException], None],
) -> BackgroundTask:
    """Enrol every writer of `folder` in a worker. `on_done(report)` also follows a
    cancel (the report is marked `cancelled`): the writers enrolled before it are in
    the store, and the screens must show them."""
    store, operator = context.store, context.operator

    def work(progress) -> BulkEnrolmentReport:
        from model.datasets import open_dataset
        from sigverify_gui.services.bulk import enrol_dataset

        dataset = open_dataset(Path(folder))
        try:
            return enrol_dataset(store, verifier, dataset, operator=operator, progress=progress)
        except BulkEnrolmentCancelled as stopped:
            return stopped.report

    return run_in_background(
        work,
        on_done=on_done,
        on_error=on_error,
        label=f"Enrolling the writers of {Path(folder).name}…",
        parent=parent,
    )


def summary(report: BulkEnrolmentReport) -> str:
    counts = (
        f"{len(report.enrolled)} customer(s) enrolled, {len(report.skipped)} already "
        f"enrolled, {len(report.failed)} could not be enrolled."
    )
    if report.cancelled:
        counts = f"Cancelled. Before the cancel: {counts} Enrol the folder again to add the rest."
    elif report.stopped_at is not None:  # the error's own dialog says why
        counts = (
            f"Stopped at {report.stopped_at}, which is not enrolled, nor are the writers "
            f"after it. Before it: {counts}"
        )
    lines = [counts]
    lines += [f"• {cid}: {message}" for cid, message in report.failed[:10]]
    if len(report.failed) > 10:
        lines.append(f"… and {len(report.failed) - 10} more.")
    if report.overridable:
        lines.append(
            f"{len(report.overridable)} of them a supervisor may still enrol one by one: "
            "choose the customer number on the Enrol tab, bring in the signatures, and "
            "Save anyway."
        )
    return "\n".join(lines)


def show_summary(parent, report: BulkEnrolmentReport) -> QMessageBox:
    icon = QMessageBox.Icon.Warning if report.failed else QMessageBox.Icon.Information
    box = QMessageBox(
        icon, "Folder enrolment", summary(report), QMessageBox.StandardButton.Ok, parent
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
