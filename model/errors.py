"""The domain's error hierarchy.

Every failure a user can cause or meet (a bad file, an unknown customer, a locked
store) is a `SigverifyError` whose message is one sentence a teller understands.
The CLI and the GUI each turn these into one clear message in one place; anything
else that escapes is a bug and goes to the log file.
"""

from __future__ import annotations


def os_reason(err: OSError) -> str:
    """Why the system refused, in its words ("No space left on device"): not Python's
    "[Errno 28] ..." with a file name (often a temporary one) the message gives better."""
    return err.strerror or str(err)


class SigverifyError(Exception):
    """Base of all expected, user-facing failures. `str(err)` is the message.

    `overridden_by` names the request's option that would go ahead regardless ("force",
    "replace"), if any: the message says what a supervisor may do in words, and each
    front end adds how (the CLI its option, the GUI a button).

    `cli_way` is how the command line does what the message says in words, when that
    differs from the app ("Use --device cpu instead." where the app has a Settings
    choice): the CLI adds it, the GUI's own words suffice. `cli_ways` replaces it for
    the commands (by name) that have a better way of their own."""

    overridden_by: str | None = None
    cli_way: str | None = None
    cli_ways: dict[str, str] = {}  # noqa: RUF012 (read only)


# --- images -----------------------------------------------------------------
class ImageError(SigverifyError):
    """A file could not be used as an image."""


class SeveralPagesError(ImageError):
    """A file of several pages given where one signature image is wanted. The message
    says only that; each front end says how to choose the page (the GUI its Whole
    cheque/form button, the CLI `extract` or `verify --page`)."""

    cli_way = (
        "Cut the signature out of its page with "
        "`sigverify extract FILE --page-number N -o SIG.png` and give SIG.png instead."
    )
    cli_ways = {  # noqa: RUF012 (read only)
        "verify": (
            "Verify the signature on its page with "
            "`sigverify verify CUSTOMER --page FILE --page-number N`."
        ),
    }


class EmptyFileError(ImageError):
    """The file has no bytes at all."""


class UnsupportedFormatError(ImageError):
    """The file is not an image in a format we read (or not an image at all)."""


class TruncatedImageError(ImageError):
    """The file starts like an image but is cut short or damaged."""


class ImageTooLargeError(ImageError):
    """The file or its pixel count exceeds our safety limits."""


class BlankImageError(ImageError):
    """The image holds no ink to work with."""


# --- data sets -----------------------------------------------------------------
class DatasetError(SigverifyError):
    """A data set folder could not be read or has an unknown layout."""


# --- model ---------------------------------------------------------------------
class ModelError(SigverifyError):
    """Weights missing, damaged, or made for another preprocessing version."""


class DeviceUnavailableError(ModelError):
    """The model cannot run where it was asked to: there is no CUDA graphics card, or
    the model is a portable one, which runs on the CPU only."""

    cli_way = "Use --device cpu instead."


# --- capture -------------------------------------------------------------------
class CaptureError(SigverifyError):
    """A scanner or hot folder could not deliver an image."""


class CancelledError(SigverifyError):
    """The user cancelled a long operation."""
