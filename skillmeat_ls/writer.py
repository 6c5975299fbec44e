"""Writing deployment files exactly the way SkillMeat writes them, and writing files safely.

This module owns three things:

- the shape of a written unified record (:func:`order_record`): SkillMeat's key order, optional
  keys only when truthy, ``local_modifications`` always, ``collection_sha`` always last and equal
  to ``content_hash``; keys SkillMeat does not know are kept, between the known keys and
  ``collection_sha``;
- the text of a deployment file (:func:`render_unified`, :func:`render_document`,
  :func:`render_records`): ``tomli_w`` with its default settings, as SkillMeat's
  ``write_deployments`` does, so a file SkillMeat wrote re-renders byte for byte (records of the
  usual shapes from templates ``tomli_w`` wrote, the same text in a fifth of the time). Like
  SkillMeat's, this writes a record short enough to fit on a 100-column line (never a real one:
  hashes are 64 characters) as an inline table inside ``deployed = [...]`` rather than under a
  ``[[deployed]]`` header;
- naive ISO timestamps (:func:`naive_iso`) and atomic replacement of a file on disk
  (:func:`atomic_write`).

Timestamps: SkillMeat writes naive local time (``datetime.now().isoformat()``); legacy files hold
UTC with a ``Z``. A trailing ``Z`` is removed, and a value with an offset is converted to UTC and
written without it, so every value produced here is naive and a legacy value stays naive UTC.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import stat
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import tomli_w

from skillmeat_ls.schema import UNIFIED_KEY_ORDER, UNIFIED_OMIT_WHEN_FALSY

__all__ = [
    "atomic_write",
    "naive_iso",
    "order_record",
    "render_document",
    "render_records",
    "render_unified",
    "toml_string",
]

_KNOWN_KEYS = frozenset(UNIFIED_KEY_ORDER)
_LEADING_KEYS = tuple(key for key in UNIFIED_KEY_ORDER if key != "collection_sha")


def order_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """One ``[[deployed]]`` record as SkillMeat's ``Deployment.to_dict`` would write it.

    Known keys come in :data:`~skillmeat_ls.schema.UNIFIED_KEY_ORDER`; the optional ones are
    omitted when falsy; ``local_modifications`` defaults to ``false``. Other keys follow in their
    own order, then ``collection_sha``. As in SkillMeat, ``content_hash`` falls back to
    ``collection_sha`` when it is missing or empty, and ``collection_sha`` is always written with
    the value of ``content_hash`` (a different stored ``collection_sha`` is not kept). Required keys
    that are missing are not invented. ``None`` values are never written.
    """
    content_hash = record.get("content_hash")
    collection_sha = record.get("collection_sha")
    if not content_hash and collection_sha:
        content_hash = collection_sha

    ordered: dict[str, Any] = {}
    for key in _LEADING_KEYS:
        if key == "content_hash":
            value = content_hash
        elif key == "local_modifications":
            value = record.get(key)
            if value is None:
                value = False
        else:
            value = record.get(key)
        if value is None or (key in UNIFIED_OMIT_WHEN_FALSY and not value):
            continue
        ordered[key] = value
    for key, value in record.items():
        if key not in _KNOWN_KEYS and value is not None:
            ordered[key] = value
    if content_hash is not None:
        ordered["collection_sha"] = content_hash
    return ordered


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string, quoted and escaped as tomli_w writes it."""
    return tomli_w.dumps({"v": value})[len("v = ") : -1]


def render_unified(records: Iterable[Mapping[str, Any]]) -> str:
    """The text SkillMeat's ``write_deployments`` produces for these records.

    An empty list gives ``deployed = []`` and a newline, as the real file of a new project.
    """
    return render_records([order_record(record) for record in records])


def render_records(records: Sequence[Mapping[str, Any]]) -> str:
    """``tomli_w.dumps({"deployed": records})``, character for character, made faster where
    the records allow it.

    ``tomli_w`` spends most of a deploy's rendering escaping strings one character at a time.
    So each record is rendered from a template that ``tomli_w`` itself wrote for records of its
    shape (the same keys, in order, each value a string, a boolean, or a list of as many strings),
    with every string in a slot; a slot is filled with the string in double quotes when nothing in
    it needs an escape (:data:`_NEEDS_ESCAPE`, TOML's rule for basic strings), else with what
    :func:`toml_string` gives. Whenever that cannot give the same text, ``tomli_w`` writes it all:
    a value of another type, or a record that ``tomli_w`` would write as an inline table (one with
    no list; with a list in each, every record is a ``[[deployed]]`` table, and the text of
    several is the text of each joined by a blank line, as ``tomli_w`` joins tables).
    ``tests/test_writer.py`` holds both to the same text on generated records."""
    if not records:
        return tomli_w.dumps({"deployed": []})
    texts = []
    for record in records:
        text = _templates.render(record)
        if text is None:
            return tomli_w.dumps({"deployed": list(records)})
        texts.append(text)
    return "\n".join(texts)


#: A character ``tomli_w`` escapes in a basic string: a quote, a backslash, or a control character
#: other than tab (TOML 1.0, "Basic strings").
_NEEDS_ESCAPE = re.compile(r'[\x00-\x08\x0a-\x1f\x7f"\\]')


def _quoted(value: str) -> str:
    return toml_string(value) if _NEEDS_ESCAPE.search(value) else f'"{value}"'


class _RecordTemplates:
    """The ``[[deployed]]`` text ``tomli_w`` writes for each shape of record met, cut where its
    strings go (see :func:`render_records`)."""

    #: Shapes kept at most: real files have a handful; a hostile one cannot grow this.
    limit = 64

    def __init__(self) -> None:
        self._cut: dict[tuple[object, ...], list[str] | None] = {}

    def render(self, record: Mapping[str, Any]) -> str | None:
        """``record``'s text as a ``[[deployed]]`` table; None when a template cannot give it."""
        shape: list[object] = []
        strings: list[str] = []
        has_list = False
        for key, value in record.items():
            kind = type(value)
            if type(key) is not str:
                return None
            if kind is str:
                shape += (key, "string")
                strings.append(value)
            elif kind is bool:
                shape += (key, "true" if value else "false")
            elif kind is list and value and all(type(item) is str for item in value):
                shape += (key, len(value))
                strings.extend(value)
                has_list = True
            else:
                return None
        if not has_list:
            return None  # tomli_w may write it inline
        cut = tuple(shape)
        pieces = self._cut[cut] if cut in self._cut else self._cut_for(cut)
        if pieces is None:
            return None
        out = [pieces[0]]
        for value, piece in zip(strings, pieces[1:], strict=True):
            out += (_quoted(value), piece)
        return "".join(out)

    def _cut_for(self, shape: tuple[object, ...]) -> list[str] | None:
        if len(self._cut) >= self.limit:
            return None
        slots = itertools.count()
        sample: dict[str, Any] = {}
        for key, kind in zip(shape[::2], shape[1::2], strict=True):
            assert isinstance(key, str)
            if kind == "string":
                sample[key] = f"@{next(slots)}@"
            elif kind in ("true", "false"):
                sample[key] = kind == "true"
            else:
                assert isinstance(kind, int)
                sample[key] = [f"@{next(slots)}@" for _ in range(kind)]
        self._cut[shape] = pieces = _cut_at_slots(tomli_w.dumps({"deployed": [sample]}), next(slots))
        return pieces


def _cut_at_slots(text: str, slots: int) -> list[str] | None:
    """``text`` cut where its quoted markers ``"@0@"``, ``"@1@"``, ... stand, in order; None when
    one is missing or could be read in two places (a key spelled like a marker): the shape is
    then left to ``tomli_w``."""
    pieces = []
    rest = text
    for slot in range(slots):
        marker = f'"@{slot}@"'
        before, found, rest = rest.partition(marker)
        if not found or marker in rest:
            return None
        pieces.append(before)
    pieces.append(rest)
    return pieces


_templates = _RecordTemplates()


def render_document(document: Mapping[str, Any]) -> str:
    """A whole deployment file: the ``deployed`` records as :func:`render_unified` writes them,
    and any other top-level keys or tables of ``document`` after them, unchanged.

    SkillMeat ignores other top-level entries on read (and drops them when it next writes).
    """
    records = [order_record(record) for record in document.get("deployed") or []]
    if all(key == "deployed" for key in document):
        return render_records(records)
    top: dict[str, Any] = {"deployed": records}
    for key, value in document.items():
        if key != "deployed":
            top[key] = value
    return tomli_w.dumps(top)


def naive_iso(value: str | date) -> str:
    """A naive ISO-8601 timestamp, as SkillMeat writes ``deployed_at``.

    Strings: a trailing ``Z`` is removed; a value with an offset (``+00:00``, ``+02:00``) is
    converted to UTC and written without it; a naive value is returned as it is (after removing
    the ``Z``). A string that is not an ISO timestamp is returned unchanged. ``datetime`` values
    (``tomllib`` returns them for unquoted TOML datetimes) are treated the same way and written
    with ``isoformat()``; a ``date`` gives ``YYYY-MM-DD``. The rare value whose UTC time falls out
    of ``datetime``'s range (year 1 or 9999 with an offset) keeps its offset.
    """
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value.isoformat()
    else:
        text = value[:-1] if value.endswith(("Z", "z")) else value
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return value
        if moment.tzinfo is None:
            return text
    if moment.tzinfo is not None:
        try:
            moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except OverflowError:  # year 1 or 9999 with an offset: UTC is out of range
            return value if isinstance(value, str) else value.isoformat()
    return moment.isoformat()


def atomic_write(
    path: Path, text: str, *, backup: bool = False, mode: int | None = None
) -> Path | None:
    """Replace ``path`` with ``text`` (UTF-8, no newline translation) in one step.

    The text goes to a temporary file beside the target (``.NAME.<random>.tmp``), which is
    flushed, synced and renamed over the target with ``os.replace``; the directory is synced
    after. The target's permission bits are kept; a new file gets the usual ``0o666`` less the
    umask; ``mode`` sets them instead (``0o600`` for a ``collection.lock``, as SkillMeat's
    ``mkstemp`` leaves it). A symlink is written through (its target is replaced, the link
    stays). Missing parent directories are created.

    With ``backup=True`` and an existing target, a copy of the current bytes is first written,
    itself atomically, to ``NAME.bak`` beside it, and its path is returned; otherwise ``None``.
    If anything fails, the temporary file is removed, the original is left untouched, and the
    exception propagates.
    """
    target = Path(path)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    existing = _existing_mode(target)
    backup_path: Path | None = None
    if backup and existing is not None:
        backup_path = target.with_name(target.name + ".bak")
        _replace_atomically(backup_path, target.read_bytes(), existing)
    _replace_atomically(target, text.encode("utf-8"), existing if mode is None else mode)
    return backup_path


def _existing_mode(target: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        return None


def _replace_atomically(target: Path, data: bytes, mode: int | None) -> None:
    directory = target.parent
    directory.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = _create_temporary(directory, target.name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(directory)


def _create_temporary(directory: Path, name: str) -> tuple[int, Path]:
    """Create a new, empty temporary file with the umask's usual mode (not ``0o600``)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        candidate = directory / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(candidate, flags, 0o666), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary file name for {name} in {directory}")


def _sync_directory(directory: Path) -> None:
    """Make the rename durable; not possible (nor needed) on Windows."""
    if os.name == "nt":
        return
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(descriptor)
    finally:
        os.close(descriptor)
