"""Shared fixtures: every test runs with its own user directories; a fresh store and
the fake verifier for the service tests."""

import pytest
from hypothesis import settings

# The same examples on every run: CI must not fail on a case no developer has seen.
# Hypothesis still searches widely; change the profile locally to explore new cases.
# No deadline: a busy CI machine's scheduling stall is not a failure of the code.
settings.register_profile("repeatable", derandomize=True, deadline=None)
settings.load_profile("repeatable")


@pytest.fixture(autouse=True)
def _private_user_dirs(tmp_path_factory, monkeypatch):
    """Keep logs, stores and settings of tests out of the real user's directories."""
    home = tmp_path_factory.mktemp("user")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("SIGVERIFY_DB", raising=False)
    import sigverify_gui.applog as applog

    monkeypatch.setattr(applog, "_configured", None)
    monkeypatch.setattr(applog, "unavailable", "")
    yield


@pytest.fixture
def store(tmp_path):
    from sigverify_gui.store.db import Store

    with Store(tmp_path / "store.db") as s:
        yield s


@pytest.fixture
def fake():
    from tests.fakes import FakeVerifier

    return FakeVerifier()
