"""Text a person types, as the store keeps it: a customer's name and notes, a reason,
an operator's name.

One rule for all of it, so that the audit trail shows what was typed and nothing
else. Tabs, line breaks and runs of spaces become one space (in notes, line breaks
stay). A control character (an escape, a NUL) is refused: pasted from another
program, it would be stored unseen and later printed raw, where a terminal obeys it.
So are the Unicode controls that reorder how text is shown (bidirectional overrides,
embeddings and isolates) and the other invisible format characters (a zero-width space,
a soft hyphen): with them a name can display as another, or two names alike. The marks
and joiners that right-to-left and Indic scripts need (ZWNJ, ZWJ, LRM, RLM, ALM) are
kept.
"""

from __future__ import annotations

import getpass
import unicodedata

from sigverify_gui.services.errors import TextError

MAX_NAME_LENGTH = 200
MAX_NOTES_LENGTH = 4000
MAX_REASON_LENGTH = 1000
MAX_OPERATOR_LENGTH = 100

_SCRIPTS_NEED = frozenset("\u200c\u200d\u200e\u200f\u061c")  # ZWNJ ZWJ LRM RLM ALM
# Letters drawn as nothing (Hangul fillers, the blank Braille pattern): a text of these
# and of the marks above alone shows nothing, so it counts as empty (a reason must show).
_SHOW_NOTHING = _SCRIPTS_NEED | frozenset("\u115f\u1160\u3164\uffa0\u2800")


def one_line(text: str | None, what: str, limit: int) -> str:
    """`text` on one line, trimmed, whitespace runs as one space; refused when it holds
    a control character or is longer than `limit` (`what` names it: "customer name")."""
    return _checked(_tidied(text), what, limit)


def several_lines(text: str | None, what: str, limit: int) -> str:
    """`one_line` for each line of notes; blank lines at either end dropped."""
    return _checked(_tidied_lines(text), what, limit)


def kept_line(text: str) -> str:
    """Text another store kept (an import), under the rule without refusing it: a store
    made before the rule may hold anything, and one odd name must not stop a branch's
    import. Whitespace is tidied; what the rule refuses is kept visibly, as escapes."""
    return escaped(_tidied(text))


def kept_lines(text: str) -> str:
    """`kept_line` for each line of notes."""
    return escaped(_tidied_lines(text), keep="\n")


def escaped(text: str, keep: str = "") -> str:
    """`text` with every character the rule refuses written as an escape (`\\x1b`,
    `\\u202e`), line breaks and tabs too unless `keep` has them: for messages that
    show a file's name or what someone typed (or an older store kept), which a
    terminal must show, not obey."""
    return "".join(ch if ch in keep or not _refused(ch) else ascii(ch)[1:-1] for ch in text)


def _refused(ch: str) -> bool:
    category = unicodedata.category(ch)
    return category in ("Cc", "Cs") or (category == "Cf" and ch not in _SCRIPTS_NEED)


def login_name() -> str:
    """Who is signed in to this computer, as the audit trail records an operator: the
    system's login name (which the environment can set to anything) under the same
    rule; "" when there is none or it breaks the rule."""
    try:
        return one_line(getpass.getuser(), "login name", MAX_OPERATOR_LENGTH)
    except Exception:  # getpass raises several kinds when no name is configured
        return ""


def _composed(text: str | None) -> str:
    # NFC, so that "é" typed as one character or as "e" and an accent is stored alike
    return unicodedata.normalize("NFC", str(text or ""))


def _tidied(text: str | None) -> str:
    """On one line: whitespace runs (tabs and line breaks too) as one space, trimmed."""
    return " ".join(_composed(text).split())


def _tidied_lines(text: str | None) -> str:
    """Each line `_tidied`; blank lines at either end dropped."""
    return "\n".join(" ".join(line.split()) for line in _composed(text).splitlines()).strip("\n")


def _checked(text: str, what: str, limit: int) -> str:
    if len(text) > limit:
        raise TextError(f"Keep the {what} to {limit} characters or fewer.")
    for ch in text:
        if ch != "\n" and _refused(ch):
            raise TextError(
                f"There is a control character (U+{ord(ch):04X}) in the {what}, which "
                "cannot be stored; type it again rather than pasting it."
            )
    return "" if all(ch in _SHOW_NOTHING or ch.isspace() for ch in text) else text
