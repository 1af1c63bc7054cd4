"""sigverify: offline signature verification for bank branches."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sigverify")
except PackageNotFoundError:  # running from a source tree or a frozen build
    __version__ = "0.1.0"
