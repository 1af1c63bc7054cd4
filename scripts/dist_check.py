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
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WINDOWS = sys.platform == "win32"
EXE = ".exe" if WINDOWS else ""
TIMEOUT_S = 300  # a cold start on a busy machine loads torch from disk: a minute, at worst


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


@dataclass
class Finished:
    """How one run of the program ended: its exit status (None: still running when its
    time was up), its output, and the processes it left behind (on Linux)."""

    returncode: int | None
    stdout: str
    stderr: str
    left_running: list[str]
    seconds: float

    def problem(self, what: str) -> str | None:
        if self.returncode is None:
            return f"{what} still ran after {TIMEOUT_S} s: {self.stderr[-1000:]!r}"
        if self.left_running:
            return f"{what} left processes running: {self.left_running}"
        return None


def run(cmd: list[str], env: dict[str, str], stdout: bool = True) -> Finished:
    """Run `cmd` in a session of its own and wait at most TIMEOUT_S for it and for every
    process it started: a child left running (the model process, say) would keep the
    output pipes open, and a plain wait on them would never end. Whatever still runs
    in the end is named, then killed."""
    began = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env=env, text=True, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
        **({} if WINDOWS else {"start_new_session": True}),
    )  # fmt: skip
    try:
        out, err = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        out, err = None, None
    seconds = time.perf_counter() - began
    left = [] if WINDOWS else _session_processes(proc.pid)
    if out is None:  # it, or something it started, still runs
        status = proc.poll()
        _kill_session(proc)
        out, err = proc.communicate()
    else:
        status = proc.returncode
        if left:
            _kill_session(proc)
    return Finished(status, out or "", err or "", left, seconds)


def _session_processes(session: int) -> list[str]:
    """The command lines of the processes still running in `session` (Linux's /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[3]) == session and fields[0] != "Z":
            found.append(f"{stat.parent.name}: {cmdline[:200]}")
    return sorted(found)


def _kill_session(proc: subprocess.Popen) -> None:
    if WINDOWS:
        proc.kill()
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def self_test(folder: Path, env: dict[str, str], weights: str | None) -> dict:
    cmd = [str(folder / f"sigverify-app{EXE}"), "--self-test"]
    if weights:
        cmd += ["--weights", weights]
    result = run(cmd, env)
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        report = {"ok": False, "error": "no JSON on stdout", "stderr": result.stderr[-2000:]}
    report["exit_status"] = result.returncode
    report["wall_ms"] = round(result.seconds * 1000.0)
    report["problem"] = result.problem("the self-test")
    return report


def gui_start(folder: Path, env: dict[str, str]) -> dict:
    """Exec to painted window: the app prints the unix time at which it painted."""
    env = dict(env, SIGVERIFY_REPORT_STARTUP="exit")
    began = time.time()
    result = run([str(folder / f"sigverify-app{EXE}")], env, stdout=False)
    lines = result.stderr.splitlines()
    report = next((x.strip() for x in lines if x.startswith("sigverify-startup:")), None)
    painted = re.search(r"unix time ([0-9.]+)", report or "")
    return {
        "window_ms": round((float(painted[1]) - began) * 1000.0) if painted else None,
        "exit_status": result.returncode,
        "report": report,
        "stderr_tail": "\n".join(lines[-5:]) if painted is None or result.returncode else "",
        "problem": result.problem("the window"),
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
        if report["problem"]:
            problems.append(report["problem"])
        elif report.get("exit_status") != 0 or report.get("ok") is not True:
            problems.append(f"self-test failed: {report.get('error')}")
        for cmd in (
            [str(folder / f"sigverify{EXE}"), "--version"],
            [str(folder / f"sigverify-app{EXE}"), "cli", "--help"],
        ):
            result = run(cmd, env)
            what = " ".join(cmd[-2:])
            problem = result.problem(what)
            if problem or result.returncode != 0:
                problems.append(problem or f"{what} exited {result.returncode}")
        gui = gui_start(folder, env)
        if gui["problem"]:
            problems.append(gui["problem"])
        elif gui["window_ms"] is None or gui["exit_status"] != 0:
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
