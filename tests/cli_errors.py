"""Checks the CLI tests share: how `sigverify` refuses bad input, as a shell sees it."""

from __future__ import annotations

from pathlib import Path


def cli_with(monkeypatch, *modules: str):
    """`sigverify` in-process with only these command modules, so that a test does not
    depend on the other commands."""
    from sigverify_gui import cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", list(modules))
    return cli.main


def run_cli(main, capsys, *argv) -> tuple[int, str, str]:
    """Exit status, stdout and stderr (`main` returns the status even for a bad option
    value, which argparse would exit with)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_user_error(code: int, err: str, *words: str) -> None:
    """Exit status 2 and one line `error: ...` holding every word, no traceback."""
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert all(word in err for word in words), err


def assert_refused_option(code: int, err: str, option: str, value: str) -> None:
    """Exit status 2 and one line `error: ...` naming the option and the value (no
    usage block: `sigverify_gui.cli` makes argparse's errors one line too)."""
    assert_user_error(code, err, f"argument {option}:", repr(value))


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in Path(folder).rglob("*")}
