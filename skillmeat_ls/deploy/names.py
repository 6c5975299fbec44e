"""Names as the command line gives them: ``NAME`` or ``NAME:TYPE``, resolved to (name, type) pairs.

:func:`resolve_request` resolves them against a collection (for deploy), :func:`resolve_recorded`
against a deployment file's records (for update and undeploy). Names match as SkillMeat matches
them (``review.md`` is ``review``); a name held with several types must be written with its type.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from skillmeat_ls.deploy.project import load
from skillmeat_ls.deploy.results import DeployError
from skillmeat_ls.profiles import Profile
from skillmeat_ls.schema import (
    KNOWN_TYPES,
    Identity,
    identity,
    is_safe_name,
    normalize_name,
    suggest_type,
)

if TYPE_CHECKING:
    from skillmeat_ls.index import Collection


def unique_pairs(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``pairs`` in their order, each once."""
    return list(dict.fromkeys((name, artifact_type) for name, artifact_type in pairs))


def unsafe_name(name: str) -> str:
    """The message for a name SkillMeat does not accept."""
    return f"unsafe artifact name {name!r} (no '/', '\\', '..', NUL or leading '.')"


def _parse_spec(spec: str) -> tuple[str, str | None]:
    """``NAME:TYPE`` when the part after the last ``:`` is a known type; else the whole ``NAME``."""
    name, sep, suffix = spec.rpartition(":")
    if sep and name and suffix in KNOWN_TYPES:
        return name, suffix
    return spec, None


def _type_hint(spec: str) -> str:
    """A hint for ``NAME:TYPO`` when nothing is called ``NAME:TYPO``."""
    _name, sep, suffix = spec.rpartition(":")
    if not sep:
        return ""
    suggestion = suggest_type(suffix)
    return f" ({suffix!r} is not an artifact type" + (
        f"; did you mean {_name}:{suggestion}?)" if suggestion else ")"
    )


def _choices(name: str, types: Sequence[str]) -> str:
    written = [f"{name}:{t}" for t in types]
    return ", ".join(written[:-1]) + f" or {written[-1]}"


def resolve_request(collection: Collection, specs: Sequence[str]) -> list[tuple[str, str]]:
    """``NAME`` / ``NAME:TYPE`` specs as (name, type) pairs of ``collection``.

    Raises :class:`DeployError` for an unsafe name, a name the collection does not hold, or a
    ``NAME`` held with several types (listing them)."""
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        name, artifact_type = _parse_spec(spec)
        if not is_safe_name(name):
            raise DeployError(unsafe_name(name))
        if artifact_type is not None:
            if not collection.find(name, artifact_type):
                others = sorted({a.type for a in collection.find(name)})
                hint = f" (it has {name!r} as {', '.join(others)})" if others else ""
                raise DeployError(
                    f"collection {collection.name} has no {artifact_type} named {name!r}{hint}"
                )
            pairs.append((name, artifact_type))
            continue
        found = collection.find(name)
        if not found:
            raise DeployError(
                f"collection {collection.name} has no artifact named {name!r}{_type_hint(spec)}"
            )
        if len(found) > 1:
            types = [a.type for a in found]
            raise DeployError(
                f'"{name}" is ambiguous in collection {collection.name}: '
                f"{', '.join(types)}; write {_choices(name, types)}"
            )
        pairs.append((name, found[0].type))
    return unique_pairs(pairs)


def resolve_recorded(
    project: Path | str, specs: Sequence[str], profile: Profile | None = None
) -> list[tuple[str, str]]:
    """``NAME`` / ``NAME:TYPE`` specs as (name, type) pairs recorded in ``project``'s file of
    ``profile``; names match as SkillMeat matches them (``review.md`` is ``review``)."""
    loaded = load(project, profile)
    recorded: list[tuple[tuple[str, str], Identity]] = []  # (as recorded, its identity)
    for record in loaded.records:
        name, artifact_type = record.get("artifact_name"), record.get("artifact_type")
        if isinstance(name, str) and isinstance(artifact_type, str):
            recorded.append(((name, artifact_type), identity(name, artifact_type)))
    where = loaded.file_label if loaded.exists else f"{loaded.root.name}/ (no deployment file)"
    pairs: list[tuple[str, str]] = []
    for spec in specs:
        name, artifact_type = _parse_spec(spec)
        if artifact_type is not None:
            wanted = identity(name, artifact_type)
            matches = [pair for pair, found in recorded if found == wanted]
        else:
            wanted_name = normalize_name(name)
            matches = [pair for pair, found in recorded if found[0] == wanted_name]
        types = list(dict.fromkeys(t for _, t in matches))
        if not matches:
            kind = f"{artifact_type} " if artifact_type else ""
            raise DeployError(f"no {kind}{name!r} is recorded in {where}{_type_hint(spec)}")
        if len(types) > 1:
            raise DeployError(
                f'"{name}" is ambiguous in {where}: {", ".join(types)}; write '
                f"{_choices(name, types)}"
            )
        pairs.append(matches[0])
    return unique_pairs(pairs)
