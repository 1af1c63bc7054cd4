"""scripts/system-packages, which `make` runs first so that `make run` and `make test` set up
a fresh Debian/Ubuntu machine: run against stand-ins for dpkg-query, apt-get and id."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script")

# FAKE_INSTALLED lists the installed packages; apt-get writes its arguments to FAKE_LOG.
_STAND_INS = {
    "dpkg-query": """#!/bin/sh
for package; do :; done  # the last argument
case " $FAKE_INSTALLED " in
    *" $package "*) printf 'install ok installed' ;;
    *) echo "dpkg-query: no packages found matching $package" >&2; exit 1 ;;
esac
""",
    "apt-get": '#!/bin/sh\necho "$@" >> "$FAKE_LOG"\n',
    "id": '#!/bin/sh\necho "$FAKE_UID"\n',
}


def run(tmp_path: Path, packages: list[str], installed: str, uid: int):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for name, text in _STAND_INS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "apt.log"
    env = {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "FAKE_INSTALLED": installed,
        "FAKE_LOG": str(log),
        "FAKE_UID": str(uid),
    }
    done = subprocess.run(
        ["sh", str(REPO / "scripts/system-packages"), *packages],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    calls = log.read_text().splitlines() if log.exists() else []
    return done, calls


def test_nothing_is_done_when_every_package_is_there(tmp_path):
    done, calls = run(tmp_path, ["gcc", "libsane1"], "gcc libsane1", uid=0)
    assert (done.returncode, calls, done.stdout, done.stderr) == (0, [], "", "")


def test_root_installs_only_the_missing_packages(tmp_path):
    done, calls = run(tmp_path, ["gcc", "libsane1", "libsane-dev"], "gcc", uid=0)
    assert done.returncode == 0
    assert calls == ["update -qq", "install -y -qq --no-install-recommends libsane1 libsane-dev"]
    assert "libsane1 libsane-dev" in done.stdout


def test_anyone_else_is_told_the_one_command_to_run(tmp_path):
    done, calls = run(tmp_path, ["gcc", "libsane-dev"], "gcc", uid=1000)
    assert done.returncode == 1 and calls == []
    assert done.stderr.strip() == (
        "sigverify needs these system packages; as root run: apt-get install libsane-dev"
    )


def test_the_makefile_runs_it_before_installing_anything():
    makefile = (REPO / "Makefile").read_text()
    first_step = makefile.split("$(STAMP): pyproject.toml\n", 1)[1].splitlines()[0]
    assert first_step.strip() == "sh scripts/system-packages $(SYSTEM_PACKAGES)"
    assert "libsane-dev" in makefile.split("SYSTEM_PACKAGES :=", 1)[1].split("\n\n", 1)[0]
