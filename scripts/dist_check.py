"""Check a built teller executable folder (`make dist-test`); standard library only.

    python3 scripts/dist_check.py dist/sigverify [--weights FILE]

Runs the built program as a user would, with a fresh, empty home (HOME, the XDG
folders, TMPDIR; APPDATA/LOCALAPPDATA on Windows all inside a temporary folder):

1. `sigverify-app --self-test` must exit 0 and print a report with "ok": true;
2. `sigverify --version` and `sigverify-app cli --help` must work;
3. the GUI must paint its window (SIGVERIFY_REPORT_STARTUP=exit) and quit by itself:
   its time from exec to the painted window is reported;
4. afterwards, no file may have appeared anywhere but in the user's data, log and
   settings folders (not in the program's folder, not in TMPDIR, not elsewhere).

Headless: QT_QPA_PLATFORM=offscreen unless set. Prints a JSON summary (with the
folder's size in MB); exit 1 when a check fails.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WINDOWS = sys.platform == "win32"
EXE = ".exe" if WINDOWS else ""
TIMEOUT_S = 600  # a cold start on a busy machine loads torch from disk: minutes, at worst


def user_environment(home: Path) -> tuple[dict[str, str], list[Path]]:
    """An environment whose user folders all lie in `home`, and the folders where the
    app may write (its data, log and settings folders, by platformdirs' rules)."""
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.pop("SIGVERIFY_DB", None)
    tmp = home / "tmp"
    tmp.mkdir(parents=True)
    env.update(HOME=str(home), USERPROFILE=str(home), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp))
    if WINDOWS:
        env.update(APPDATA=str(home / "Roaming"), LOCALAPPDATA=str(home / "Local"))
        allowed = [home / "Local" / "sigverify", home / "Roaming" / "sigverify"]
    else:
        xdg = {
            "XDG_DATA_HOME": home / "data",
            "XDG_STATE_HOME": home / "state",
            "XDG_CONFIG_HOME": home / "config",
            "XDG_CACHE_HOME": home / "cache",
        }
        env.update({k: str(v) for k, v in xdg.items()})
        env["XDG_RUNTIME_DIR"] = str(home / "runtime")
        (home / "runtime").mkdir(mode=0o700)
        allowed = [home / "data" / "sigverify", home / "state" / "sigverify"]
        allowed.append(home / "config" / "sigverify")  # the GUI's settings (QSettings)
    return env, allowed


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def folder_mb(folder: Path) -> int:
    """Bytes of the folder's files in MB (10^6), a symbolic link's target counted once."""
    files = (p for p in files_under(folder) if not p.is_symlink())
    return round(sum(p.stat().st_size for p in files) / 1e6)


def run(cmd: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)


def self_test(folder: Path, env: dict[str, str], weights: str | None) -> dict:
    cmd = [str(folder / f"sigverify-app{EXE}"), "--self-test"]
    if weights:
        cmd += ["--weights", weights]
    began = time.perf_counter()
    result = run(cmd, env)
    wall_ms = (time.perf_counter() - began) * 1000.0
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = {"ok": False, "error": "no JSON on stdout", "stderr": result.stderr[-2000:]}
    report["exit_status"] = result.returncode
    report["wall_ms"] = round(wall_ms)
    return report


def gui_start(folder: Path, env: dict[str, str]) -> dict:
    """Exec to painted window, measured from here (the app prints when it painted)."""
    env = dict(env, SIGVERIFY_REPORT_STARTUP="exit")
    began = time.perf_counter()
    proc = subprocess.Popen(
        [str(folder / f"sigverify-app{EXE}")],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    window_ms = None
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("sigverify-startup:") and window_ms is None:
            window_ms = (time.perf_counter() - began) * 1000.0
    status = proc.wait(timeout=TIMEOUT_S)
    return {
        "window_ms": round(window_ms) if window_ms is not None else None,
        "exit_status": status,
        "report": next((x.strip() for x in lines if x.startswith("sigverify-startup:")), None),
        "stderr_tail": "".join(lines[-5:]) if window_ms is None or status else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the built folder, e.g. dist/sigverify")
    parser.add_argument("--weights", help="weights to self-test with (default: the shipped)")
    args = parser.parse_args()
    folder = args.folder.resolve()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="sigverify-dist-check-") as scratch:
        home = Path(scratch) / "home"
        env, allowed = user_environment(home)
        before_folder = files_under(folder)

        report = self_test(folder, env, args.weights)
        if report.get("exit_status") != 0 or report.get("ok") is not True:
            problems.append(f"self-test failed: {report.get('error')}")
        for cmd in (
            [str(folder / f"sigverify{EXE}"), "--version"],
            [str(folder / f"sigverify-app{EXE}"), "cli", "--help"],
        ):
            result = run(cmd, env)
            if result.returncode != 0:
                problems.append(f"{' '.join(cmd[-2:])} exited {result.returncode}")
        gui = gui_start(folder, env)
        if gui["window_ms"] is None or gui["exit_status"] != 0:
            problems.append(f"the GUI did not show its window: {gui['stderr_tail']}")

        written = sorted(str(p.relative_to(home)) for p in files_under(home))
        stray = [
            p for p in files_under(home) if not any(p.is_relative_to(a) for a in allowed)
        ] + sorted(files_under(folder) - before_folder)
        if stray:
            problems.append(f"files written outside the user's folders: {sorted(map(str, stray))}")
    summary = {
        "ok": not problems,
        "size_mb": folder_mb(folder),
        "problems": problems,
        "self_test": report,
        "gui_start": gui,
        "files_written": written,
    }
    json.dump(summary, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
