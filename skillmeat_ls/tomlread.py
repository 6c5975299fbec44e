"""Reading TOML text: the one way the engine hands text to ``tomllib``.

:func:`loads` is ``tomllib.loads`` with two refusals in front of it, each raised as a
:class:`RefusedText` (a ``tomllib.TOMLDecodeError``, placed as ``tomllib`` places its own errors,
"(at line L, column C)"), so every caller handles one error type:

* **Text that is not UTF-8.** Files are read with ``errors="surrogateescape"``
  (:func:`skillmeat_ls.workspace.read_text`): each byte that is not UTF-8 becomes a lone surrogate
  (U+DC80–U+DCFF), so the position of the first bad byte survives and nothing is silently
  replaced. A lone surrogate cannot be encoded, so such text is not TOML (``tomllib.load`` on the
  file's bytes refuses it too), however ``tomllib.loads`` would judge the ``str``.
* **Nesting deeper than** :data:`MAX_NESTING` **levels** of arrays and inline tables.
  ``tomllib`` parses nested values by recursion, so whether it reads text nested some hundreds
  deep depends on how deep the caller's stack already is: the language server, the command line
  and an incremental re-parse would disagree about one text. The limit is checked first, by a
  scanner that does not recurse, so the verdict is the same whatever the call stack; within the
  limit ``tomllib`` needs at most about 300 frames (three a level of inline tables), which leaves
  room under Python's default limit of 1000 for callers some hundreds of frames deep. A real
  deployment file nests two or three levels (records, and arrays in them), and SkillMeat itself
  reads with ``tomllib``/``tomli``, whose recursion depends on its own stack: nothing real comes
  near the limit.

The scanner (:func:`too_deep`) counts ``[`` and ``{`` against ``]`` and ``}``, skipping strings
(basic, literal and both multi-line forms, ended where ``tomllib`` ends them) and comments; a
table header's brackets count too, which is harmless at this limit. Text holding no more brackets
than the limit is passed without a scan, which keeps the common case (every chunk of an
incremental parse) free; a whole 10,000-record file is scanned in about 7% of its ``tomllib``
time.
"""

from __future__ import annotations

import re
import sys
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["MAX_NESTING", "RefusedText", "loads", "not_utf8", "tomllib", "too_deep"]

#: Arrays and inline tables nested deeper than this are refused, not parsed.
MAX_NESTING = 100

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
# What the nesting scanner skips: strings, ended as tomllib ends them (a multi-line string's
# closing quotes may be followed by one or two more quotes, its content's), a single-line string
# at its line's end at the latest, and comments.
_SKIPPED = (
    r'"""[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*(?:"{3,5})?'
    r"|'''[^']*(?:'(?!'')[^']*)*(?:'{3,5})?"
    r'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"?'
    r"|'[^'\n]*'?"
    r"|#[^\n]*"
)
_SKIP = re.compile(_SKIPPED)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
#: The same tokens, and the brackets between them (group 1).
_TOKENS = re.compile(rf"{_SKIPPED}|([\[\]{{}}])")


class RefusedText(tomllib.TOMLDecodeError):
    """Text :func:`loads` does not give to ``tomllib``: ``msg`` says why, ``pos`` is the offset of
    the first character that says so, ``lineno``/``colno`` are 1-based as in ``tomllib``."""

    def __init__(self, msg: str, doc: str, pos: int) -> None:
        self.msg, self.doc, self.pos = msg, doc, pos
        self.lineno = doc.count("\n", 0, pos) + 1
        self.colno = pos - doc.rfind("\n", 0, pos)
        ValueError.__init__(self, f"{msg} (at line {self.lineno}, column {self.colno})")

    @property
    def reason(self) -> str:
        """``msg`` and its place, as a sentence: "... at line L, column C"."""
        return f"{self.msg} at line {self.lineno}, column {self.colno}"

    def __reduce__(self) -> tuple[type[RefusedText], tuple[str, str, int]]:
        return (type(self), (self.msg, self.doc, self.pos))


def _describe_surrogate(char: str) -> str:
    """What a lone surrogate in read text stands for: a byte that is not UTF-8 (as
    ``surrogateescape`` decodes one), else a surrogate code point (an editor can send one)."""
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:
        return f"bytes that are not UTF-8 (0x{code - 0xDC00:02x})"
    return f"a lone surrogate (U+{code:04X}), which is not UTF-8"


def not_utf8(text: str) -> RefusedText | None:
    """The refusal of ``text`` at its first lone surrogate, or None when it is Unicode text."""
    if text.isascii():
        return None
    found = _LONE_SURROGATE.search(text)
    if found is None:
        return None
    return RefusedText(_describe_surrogate(found.group()), text, found.start())


def too_deep(text: str, limit: int = MAX_NESTING) -> RefusedText | None:
    """The refusal of ``text`` at the first array or inline table opened more than ``limit``
    levels deep (brackets in strings and comments do not count), or None.

    The brackets are counted in what is left once strings and comments are cut out (in C, by
    ``re``); only text found too deep is tokenised again, to find the offending bracket."""
    if text.count("[") + text.count("{") <= limit:
        return None
    index = _first_too_deep(_NOT_BRACKET.sub("", _SKIP.sub("", text)), limit)
    if index is None:
        return None
    offsets = [token.start(1) for token in _TOKENS.finditer(text) if token.lastindex]
    return RefusedText(f"Nested more than {limit} levels deep", text, offsets[index])


def _first_too_deep(brackets: str, limit: int) -> int | None:
    """The index in ``brackets`` (only ``[]{}``) of the first opening more than ``limit`` deep."""
    depth = 0
    for index, char in enumerate(brackets):
        if char in "[{":
            depth += 1
            if depth > limit:
                return index
        elif depth:
            depth -= 1
    return None


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads(text)``, unless ``text`` is not UTF-8 or nested too deeply: then a
    :class:`RefusedText` (a ``tomllib.TOMLDecodeError``) at the first place that says so."""
    refused = not_utf8(text) or too_deep(text)
    if refused is not None:
        raise refused
    data: dict[str, Any] = tomllib.loads(text)
    return data
