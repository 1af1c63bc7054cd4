"""UI layering: Qt only through `ui/qt.py`; startup stays light."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

UI = Path(__file__).resolve().parents[2] / "sigverify_gui" / "ui"


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_only_the_qt_module_imports_the_binding():
    offenders = {
        path.name: sorted(m for m in _imported_modules(path) if m.split(".")[0] == "PySide6")
        for path in UI.glob("*.py")
        if path.name != "qt.py"
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_window_appears_without_waiting_for_torch(tmp_path):
    # Why the window is quick: torch (seconds to import) loads with the model, in the
    # background. How quick is a benchmark figure (`sigverify bench`: window_ms), not a
    # timed test, which a busy machine would make flaky.
    # A fresh interpreter, as at a real launch: imports are part of the cost.
    code = f"""
import sys, time
began = time.monotonic()
from sigverify_gui.ui import app
from tests.fakes import FakeVerifier
running = app.start(["--db", {str(tmp_path / "s.db")!r}], verifier_factory=lambda d: FakeVerifier())
assert running.window.isVisible()
print(time.monotonic() - began, "torch" in sys.modules)
"""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", XDG_CONFIG_HOME=str(tmp_path / "cfg"))
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60,
        cwd=UI.parents[1],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    _seconds, torch_loaded = result.stdout.split()
    assert torch_loaded == "False"
