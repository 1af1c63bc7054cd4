"""`sigverify enroll-folder DIR`: enrol every writer of a data set folder as a customer.

Each writer's genuine signatures become their references; forgeries are ignored.
Writers already enrolled are skipped, so an interrupted run can simply be repeated.
A writer that cannot be enrolled (a bad scan, an inconsistent set) is reported and
the others go on; the exit status is 1 when any writer failed. Thresholds damaged
part-way stop the run: the report of the writers before the stop is printed, then the
error (exit status 2).
"""

from __future__ import annotations

from model.progress import TerminalProgress
from sigverify_gui.cli.commands.store_options import (
    add_db_option,
    add_model_options,
    add_operator_option,
    open_store_from,
    operator_of,
    verifier_from,
)
from sigverify_gui.cli.output import add_json_flag, emit, file_path

SOME_FAILED = 1


def register(subparsers) -> None:
    from model.datasets import LAYOUTS

    p = subparsers.add_parser(
        "enroll-folder",
        help="enrol every writer of a data set folder from their genuine signatures",
    )
    p.add_argument("folder", metavar="DIR", type=file_path, help="the data set's top folder")
    p.add_argument("--layout", choices=("auto", *LAYOUTS), default="auto")
    p.add_argument("--prefix", default="", help="put this before each writer id")
    p.add_argument(
        "--force",
        action="store_true",
        help="enrol inconsistent sets, and images other customers hold, too",
    )
    add_db_option(p)
    add_model_options(p)
    add_operator_option(p)
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args) -> int:
    from model.datasets import open_dataset
    from sigverify_gui.services.bulk import BulkEnrolmentStopped, enrol_dataset

    dataset = open_dataset(args.folder, args.layout)
    verifier = verifier_from(args)
    with open_store_from(args, creates=True) as store:
        try:
            report = enrol_dataset(
                store,
                verifier,
                dataset,
                prefix=args.prefix,
                force=args.force,
                operator=operator_of(args),
                progress=TerminalProgress("enrolling"),
            )
        except BulkEnrolmentStopped as stopped:
            # The writers before the stop are in the store: say which, then the error.
            emit(args, stopped.report.to_dict(), _report_text(stopped.report, dataset))
            raise
    emit(args, report.to_dict(), _report_text(report, dataset))
    return SOME_FAILED if report.failed else 0


def _report_text(report, dataset) -> str:
    """What the run did; after a stop, what it did before, so a rerun is no guess."""
    stop = ""
    if report.stopped_at is not None:
        stop = (
            f" before the run stopped at {report.stopped_at} (it and the writers after "
            "it are not enrolled)"
        )
    lines = [
        f"Enrolled {len(report.enrolled)} writer(s) from {dataset.root} ({dataset.layout})"
        f"{stop}; {len(report.skipped)} already enrolled; {len(report.failed)} failed."
    ]
    lines += [f"  {cid}: {message}" for cid, message in report.failed]
    if report.overridable:
        lines.append(
            f"{len(report.overridable)} of them a supervisor may enrol anyway: run again "
            "with --force (the writers already enrolled are skipped)."
        )
    return "\n".join(lines)
