"""Enrolling a whole data set folder from the GUI (`services.bulk`), in a worker.

Each writer is its own enrolment, so cancelling keeps the writers already enrolled
and a second run skips them; the summary says what happened to each.
"""

from __future__ import annotations

from pathlib import Path

from sigverify_gui.services.bulk import BulkEnrolmentReport
from sigverify_gui.ui.qt import QFileDialog, QMessageBox, Qt
from sigverify_gui.ui.workers import BackgroundTask, run_in_background


def ask_folder(parent) -> str:
    return QFileDialog.getExistingDirectory(parent, "Enrol every writer of a folder")


def start_folder_enrolment(context, folder: str | Path, parent, on_done) -> BackgroundTask:
    """Enrol every writer of `folder` once the model is ready; `on_done(report)`."""
    store, operator = context.store, context.operator
    holder: dict[str, BackgroundTask] = {}

    def work(verifier, progress) -> BulkEnrolmentReport:
        from model.datasets import open_dataset
        from sigverify_gui.services.bulk import enrol_dataset

        dataset = open_dataset(Path(folder))
        return enrol_dataset(store, verifier, dataset, operator=operator, progress=progress)

    def start(verifier) -> None:
        holder["task"] = run_in_background(
            lambda progress: work(verifier, progress),
            on_done=on_done,
            label=f"Enrolling the writers of {Path(folder).name}…",
            parent=parent,
        )

    context.when_ready(start)
    return holder.get("task")


def summary(report: BulkEnrolmentReport) -> str:
    lines = [
        f"{len(report.enrolled)} customer(s) enrolled, {len(report.skipped)} already "
        f"enrolled, {len(report.failed)} could not be enrolled."
    ]
    lines += [f"• {cid}: {message}" for cid, message in report.failed[:10]]
    if len(report.failed) > 10:
        lines.append(f"… and {len(report.failed) - 10} more.")
    return "\n".join(lines)


def show_summary(parent, report: BulkEnrolmentReport) -> QMessageBox:
    icon = QMessageBox.Icon.Warning if report.failed else QMessageBox.Icon.Information
    box = QMessageBox(
        icon, "Folder enrolment", summary(report), QMessageBox.StandardButton.Ok, parent
    )
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
