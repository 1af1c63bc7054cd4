"""The layering contract: the core, the store and the services never import Qt."""

import subprocess
import sys

import pytest

QT_FREE_PACKAGES = [
    "model",
    "sigverify_gui.store",
    "sigverify_gui.services",
    "sigverify_gui.cli",
]


def _all_modules(package: str) -> list[str]:
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(pkg.__path__, prefix=package + "."):
        if not info.name.endswith(".__main__"):  # importing it would run the program
            names.append(info.name)
    return names


@pytest.mark.parametrize("package", QT_FREE_PACKAGES)
def test_package_does_not_import_qt(package):
    # A fresh interpreter, so that Qt loaded by other tests cannot hide an import.
    code = (
        "import sys, importlib\n"
        "from tests.test_architecture import _all_modules\n"
        f"for name in _all_modules({package!r}):\n"
        "    importlib.import_module(name)\n"
        "qt = ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in qt)\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
