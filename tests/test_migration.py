"""Lossless migration of legacy and mixed deployment files to the unified schema."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillmeat_ls.migration import (
    MigrationError,
    derive_artifact_path,
    migrate_data,
    migrate_document,
    migrate_text,
)
from skillmeat_ls.schema import KNOWN_TYPES, LEGACY_KEPT_TABLE, UNIFIED_KEY_ORDER

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SAMPLES = Path(__file__).parent / "data" / "samples"
LEGACY_SAMPLES = sorted(p.name for p in SAMPLES.glob("legacy*.toml"))
GENERATED_LEGACY = "legacy.generated-bf0f68e3-legacy-project.skillmeat-deployed.toml"
GENERATED_HASH = "18d75f739ce2d5d309a18e8f9159daa0382ff24f9967e681cc21e5b365a529de"
REAL_UNIFIED = [
    "unified.real-skillmeat-repo.bf0f68e3.skillmeat-deployed.toml",
    "unified.generated-bf0f68e3-project.skillmeat-deployed.toml",
    "unified-profiles.real-skillmeat-repo.HEAD-9798d2f8.skillmeat-deployed.toml",
    "unified-empty.created-by-api-create-project.bf0f68e3.skillmeat-deployed.toml",
]


def _leaves(value: Any) -> Iterator[tuple[str, str]]:
    """Every scalar inside a parsed TOML value, as (type name, text)."""
    if isinstance(value, dict):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list):
        for item in value:
            yield from _leaves(item)
    else:
        yield type(value).__name__, str(value)


def _legacy_leaves(data: dict[str, Any]) -> set[tuple[str, str]]:
    return set(_leaves({key: data[key] for key in ("deployment", "artifacts") if key in data}))


def _assert_unified_shape(text: str) -> dict[str, Any]:
    parsed = tomllib.loads(text)
    assert "deployment" not in parsed
    assert "artifacts" not in parsed
    for record in parsed["deployed"]:
        # a table-valued extra key can only be written after the record's plain keys
        keys = [key for key, value in record.items() if not isinstance(value, dict)]
        known = [key for key in keys if key in UNIFIED_KEY_ORDER and key != "collection_sha"]
        assert known == sorted(known, key=UNIFIED_KEY_ORDER.index)
        # known keys first, extras after them, collection_sha last
        assert keys[: len(known)] == known
        if "collection_sha" in keys:
            assert keys[-1] == "collection_sha"
        if "collection_sha" in record:
            assert record["collection_sha"] == record["content_hash"]
        assert "local_modifications" in record
        stamp = record.get("deployed_at")
        if isinstance(stamp, str) and not stamp.endswith(("Z", "z")):
            try:
                moment = datetime.fromisoformat(stamp)
            except ValueError:
                continue
            assert moment.tzinfo is None, stamp
    return parsed


# --- the real samples -------------------------------------------------------------------------


@pytest.mark.parametrize("name", LEGACY_SAMPLES)
def test_legacy_samples_migrate_losslessly(name: str) -> None:
    text = (SAMPLES / name).read_text(encoding="utf-8")
    out = migrate_text(text)
    parsed = _assert_unified_shape(out)
    assert _legacy_leaves(tomllib.loads(text)) <= set(_leaves(parsed))
    assert migrate_text(out) == out
    for record in parsed["deployed"]:
        assert not record["deployed_at"].endswith("Z")
        assert datetime.fromisoformat(record["deployed_at"]).tzinfo is None
        assert record["collection_sha"] == record["content_hash"]
        assert record["merge_base_snapshot"] == record["content_hash"]
        assert record["local_modifications"] is False


def test_generated_legacy_project_migrates_to_its_skill() -> None:
    text = (SAMPLES / GENERATED_LEGACY).read_text(encoding="utf-8")
    [record] = migrate_data(tomllib.loads(text))
    assert record == {
        "artifact_name": "my-skill",
        "artifact_type": "skill",
        "from_collection": "default",
        "deployed_at": "2026-11-24T02:22:37.820652",
        "artifact_path": "skills/my-skill",
        "content_hash": GENERATED_HASH,
        "local_modifications": False,
        "merge_base_snapshot": GENERATED_HASH,
        "source": "local:/home/dev/.skillmeat/collections/default/skills/my-skill",
        "version": "unknown",
        "deployed-at": "2026-11-24T02:22:37.820652Z",
        "deployed-from": "/home/dev/.skillmeat/collections/default",
        "deployment-deployed-at": "2026-11-24T02:22:37.820652Z",
        "skillmeat-version": "0.2.0-alpha",
        "collection_sha": GENERATED_HASH,
    }


def test_a_value_without_z_is_not_repeated() -> None:
    text = (SAMPLES / "legacy.test_sync_flow-deployed_project.bf0f68e3.toml").read_text()
    [record] = migrate_data(tomllib.loads(text))
    assert record["deployed_at"] == "2024-01-15T10:00:00"
    assert "deployed-at" not in record
    assert record["from_collection"] == "test-collection"
    assert record["deployed-from"] == "test-collection"


def test_header_only_file_keeps_its_header_in_a_top_level_table() -> None:
    text = (SAMPLES / "legacy-header-only.test_sync_rollback.bf0f68e3.toml").read_text()
    out = migrate_text(text)
    assert out == (
        "deployed = []\n\n"
        f"[{LEGACY_KEPT_TABLE}]\n"
        'collection = "test-collection"\n'
        'deployed-at = "2024-01-01T00:00:00"\n'
        'skillmeat-version = "0.1.0"\n'
    )
    assert migrate_text(out) == out
    assert migrate_data(tomllib.loads(text)) == []


@pytest.mark.parametrize("name", REAL_UNIFIED)
def test_unified_files_come_back_unchanged(name: str) -> None:
    original = (SAMPLES / name).read_text(encoding="utf-8")
    assert migrate_text(original) == original


def test_unified_records_are_rerendered_as_skillmeat_would() -> None:
    out = migrate_text('[[deployed]]\nartifact_name = "x"\ncontent_hash = "abc"\n')
    assert tomllib.loads(out)["deployed"] == [
        {"artifact_name": "x", "content_hash": "abc", "local_modifications": False,
         "collection_sha": "abc"}
    ]  # fmt: skip


# --- field mapping ----------------------------------------------------------------------------


def _one(text: str) -> dict[str, Any]:
    [record] = migrate_data(tomllib.loads(text))
    return record


def test_collection_comes_from_deployed_from_when_the_header_has_none() -> None:
    record = _one(
        '[[artifacts]]\nname = "a"\ntype = "command"\n'
        'deployed-from = "C:\\\\Users\\\\me\\\\.skillmeat\\\\collections\\\\work"\n'
    )
    assert record["from_collection"] == "work"
    assert record["artifact_path"] == "commands/a.md"
    assert _one('[[artifacts]]\nname = "a"\ndeployed-from = "/x/y"\n')["from_collection"] == (
        "default"
    )
    assert _one('[[artifacts]]\nname = "a"\ndeployed-from = "/h/collections/.."\n')[
        "from_collection"
    ] == ("default")


def test_record_time_wins_over_header_time() -> None:
    header = '[deployment]\ndeployed-at = "2025-01-01T00:00:00Z"\n'
    assert _one(header + '[[artifacts]]\nname = "a"\n')["deployed_at"] == "2025-01-01T00:00:00"
    record = _one(header + '[[artifacts]]\nname = "a"\ndeployed-at = "2024-05-05T05:05:05"\n')
    assert record["deployed_at"] == "2024-05-05T05:05:05"
    assert record["deployment-deployed-at"] == "2025-01-01T00:00:00Z"


def test_unquoted_toml_datetime_becomes_a_naive_string_and_is_kept() -> None:
    record = _one('[[artifacts]]\nname = "a"\ndeployed-at = 2025-11-15T12:30:00+02:00\n')
    assert record["deployed_at"] == "2025-11-15T10:30:00"
    assert record["deployed-at"] == datetime(
        2025, 11, 15, 12, 30, tzinfo=timezone(timedelta(hours=2))
    )


def test_unified_timestamp_keys_in_a_legacy_record_are_made_naive() -> None:
    record = _one('[[artifacts]]\nname = "a"\ndeployed_at = "2000-01-01T00:00:00+00:00"\n')
    assert record["deployed_at"] == "2000-01-01T00:00:00"
    assert record["deployed_at-legacy"] == "2000-01-01T00:00:00+00:00"


def test_missing_values_are_not_invented() -> None:
    record = _one('[[artifacts]]\nsource = "s"\n')
    assert record == {
        "from_collection": "default",
        "local_modifications": False,
        "source": "s",
    }


@pytest.mark.parametrize(
    ("name", "artifact_type", "expected"),
    [
        ("my-skill", "skill", "skills/my-skill"),
        ("Design Principles", "skill", "skills/Design Principles"),
        ("review", "command", "commands/review.md"),
        ("helper", "agent", "agents/helper.md"),
        ("h", "hook", "hooks/h.md"),
        ("srv", "mcp", "mcp/srv"),
        ("srv", "mcp_server", "mcp/srv"),
        ("api-patterns", "rule_file", "rules/api-patterns.md"),
        ("notes.md", "context_file", "context/notes.md"),
        ("flow", "workflow", "workflows/flow"),
        ("x", "bogus", "boguss/x"),
        ("../etc", "skill", None),
        ("a/b", "skill", None),
        (".hidden", "skill", None),
        ("", "skill", None),
        ("x", "", None),
        ("x", "../t", None),
        ("x", 3, None),
        (None, "skill", None),
    ],
)
def test_derive_artifact_path(name: object, artifact_type: object, expected: str | None) -> None:
    assert derive_artifact_path(name, artifact_type) == expected


def test_unknown_keys_are_kept_and_clashing_names_get_a_suffix() -> None:
    record = _one(
        "[deployment]\n"
        'collection = "c"\nlocation = "eu"\n'
        "[[artifacts]]\n"
        'name = "a"\ntype = "skill"\nsha = "s1"\n'
        'artifact_path = "skills/custom/a"\n'
        'collection_sha = "other"\n'
        'parent_hash = ""\n'
        'content_hash = "s2"\n'
        "weight = 3\n"
    )
    assert record["artifact_path"] == "skills/custom/a"  # the record's own path wins
    assert record["content_hash"] == record["collection_sha"] == "s1"
    assert record["collection_sha-legacy"] == "other"
    assert record["content_hash-legacy"] == "s2"
    assert record["parent_hash-legacy"] == ""
    assert "parent_hash" not in record
    assert record["weight"] == 3
    assert record["deployment-location"] == "eu"
    assert "deployment-collection" not in record


# --- mixed files ------------------------------------------------------------------------------

MIXED = """\
notes = "kept"

[deployment]
collection = "legacy-coll"
deployed-at = "2025-11-15T10:30:00Z"
skillmeat-version = "0.2.0-alpha"

[[deployed]]
artifact_name = "shared"
artifact_type = "skill"
from_collection = "default"
deployed_at = "2026-01-05T15:07:49.157370"
artifact_path = "skills/shared"
content_hash = "aaa"
local_modifications = false
collection_sha = "aaa"

[[artifacts]]
name = "new"
type = "command"
sha = "bbb"
deployed-at = "2025-11-15T10:31:00Z"

[[artifacts]]
name = "shared"
type = "skill"
source = "github:user/repo/shared"
sha = "ccc"
deployed-at = "2025-11-15T10:32:00Z"

[[artifacts]]
name = "shared"
type = "agent"
sha = "ddd"

[[artifacts]]
name = "new"
type = "command"
sha = "eee"
"""


def test_mixed_file_keeps_unified_records_first_and_folds_duplicates() -> None:
    out = migrate_text(MIXED)
    parsed = _assert_unified_shape(out)
    assert parsed["notes"] == "kept"
    records = parsed["deployed"]
    assert [(r["artifact_name"], r["artifact_type"]) for r in records] == [
        ("shared", "skill"),
        ("new", "command"),
        ("shared", "agent"),
    ]
    shared, new, agent = records
    # the unified record keeps its values; the legacy ones are added under their legacy names
    assert shared["content_hash"] == "aaa"
    assert shared["deployed_at"] == "2026-01-05T15:07:49.157370"
    assert shared["sha"] == "ccc"
    assert shared["deployed-at"] == "2025-11-15T10:32:00Z"
    assert shared["source"] == "github:user/repo/shared"
    assert shared["deployment-collection"] == "legacy-coll"
    assert shared["deployment-deployed-at"] == "2025-11-15T10:30:00Z"
    assert shared["skillmeat-version"] == "0.2.0-alpha"
    # a second legacy record of one pair is folded into the first
    assert new["content_hash"] == "bbb"
    assert new["sha"] == "eee"
    assert agent["from_collection"] == "legacy-coll"
    assert agent["artifact_path"] == "agents/shared.md"
    assert _legacy_leaves(tomllib.loads(MIXED)) <= set(_leaves(parsed))
    assert migrate_text(out) == out


SPELLINGS = """\
[[deployed]]
artifact_name = "review"
artifact_type = "command"
content_hash = "aaa"

[[deployed]]
artifact_name = "srv"
artifact_type = "mcp"
content_hash = "bbb"

[[artifacts]]
name = "review.md"
type = "command"
sha = "aaa"

[[artifacts]]
name = "srv"
type = "mcp_server"
sha = "bbb"
"""


def test_records_are_matched_by_identity_not_by_spelling() -> None:
    """``review.md`` is ``review`` and ``mcp_server`` is ``mcp`` to SkillMeat (SPEC §2), so the
    legacy records fold into the unified ones rather than duplicating them (SM120)."""
    out = migrate_text(SPELLINGS)
    review, srv = _assert_unified_shape(out)["deployed"]
    assert (review["artifact_name"], review["artifact_type"]) == ("review", "command")
    assert (srv["artifact_name"], srv["artifact_type"]) == ("srv", "mcp")
    # the legacy spellings are values too: kept under their legacy names
    assert review["name"] == "review.md" and "type" not in review
    assert srv["type"] == "mcp_server" and "name" not in srv
    assert _legacy_leaves(tomllib.loads(SPELLINGS)) <= set(_leaves(tomllib.loads(out)))
    assert migrate_text(out) == out


def test_mixed_file_with_only_a_header_keeps_it_in_the_top_level_table() -> None:
    text = '[deployment]\ncollection = "c"\n\n[[deployed]]\nartifact_name = "x"\n'
    document = migrate_document(tomllib.loads(text))
    assert document[LEGACY_KEPT_TABLE] == {"collection": "c"}
    assert "deployment-collection" not in document["deployed"][0]


# --- errors -----------------------------------------------------------------------------------


def test_syntax_error_is_a_migration_error_with_the_place() -> None:
    with pytest.raises(MigrationError, match=r"not valid TOML.*line 2"):
        migrate_text('[deployment]\ncollection = "unterminated\n')


def test_text_that_is_not_utf8_is_refused_at_its_first_bad_byte() -> None:
    """Bytes read with surrogateescape are refused where they are, never written back as U+FFFD
    (or as anything else)."""
    raw = b'[deployment]\ncollection = "d"\n\n[[artifacts]]\nname = "caf\xe9"\ntype = "skill"\n'
    text = raw.decode("utf-8", errors="surrogateescape")
    with pytest.raises(
        MigrationError,
        match=r"^bytes that are not UTF-8 \(0xe9\) at line 5, column 12; nothing written$",
    ):
        migrate_text(text)


@pytest.mark.parametrize("depth", [101, 480, 5000])
def test_nesting_too_deep_is_a_migration_error_with_the_place(depth: int) -> None:
    text = "[[artifacts]]\nname = 'a'\nextra = " + "[" * depth + "]" * depth + "\n"
    message = r"^Nested more than 100 levels deep at line 3, column 109; nothing written$"
    with pytest.raises(MigrationError, match=message):
        migrate_text(text)

    def from_deep_stack(frames: int) -> None:
        if frames:
            from_deep_stack(frames - 1)
        else:
            migrate_text(text)

    with pytest.raises(MigrationError, match=message):
        from_deep_stack(400)


def test_nesting_at_the_limit_migrates() -> None:
    value = "[" * 100 + "]" * 100
    out = migrate_text(f"[[artifacts]]\nname = 'a'\ntype = 'skill'\nextra = {value}\n")
    assert tomllib.loads(out)["deployed"][0]["extra"] == tomllib.loads(f"v = {value}")["v"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('deployment = "x"\n', "'deployment' must be a table"),
        ("artifacts = 3\n", "'artifacts' must be an array of tables"),
        ("artifacts = [1]\n", "'artifacts' entry 1 must be a table"),
        ('deployed = "x"\n', "'deployed' must be an array of tables"),
    ],
)
def test_wrong_shapes_are_migration_errors(text: str, message: str) -> None:
    with pytest.raises(MigrationError, match=message):
        migrate_text(text)


# --- properties -------------------------------------------------------------------------------

_OFFSETS = st.sampled_from(
    [timezone.utc, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))]
)
_NAIVE = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1))
_TIMESTAMPS = st.one_of(
    _NAIVE.map(datetime.isoformat),
    _NAIVE.map(lambda moment: moment.isoformat() + "Z"),
    _NAIVE.map(lambda moment: moment.isoformat() + "+00:00"),
    st.datetimes(timezones=_OFFSETS).map(datetime.isoformat),
    st.datetimes(timezones=_OFFSETS),
    _NAIVE,
    st.text(max_size=8),
)
_SCALARS = st.one_of(
    st.text(max_size=12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.booleans(),
    st.floats(),
    _TIMESTAMPS,
)
_VALUES = st.one_of(
    _SCALARS,
    st.lists(_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=4), _SCALARS, max_size=2),
)
_NAMES = st.one_of(
    st.sampled_from(["my-skill", "Design Principles", "ünïcødé skill", "日本語", "a b"]),
    st.text(min_size=1, max_size=12),
)
_TYPES = st.one_of(st.sampled_from(sorted(KNOWN_TYPES)), st.text(max_size=8))
_SHAS = st.one_of(
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    st.sampled_from(["abc123", "", "def456"]),
    st.text(max_size=8),
)
_RECORD_EXTRA_KEYS = st.one_of(
    st.text(max_size=10),
    st.sampled_from(
        [*UNIFIED_KEY_ORDER, "deployed-at", "source", "source-legacy", "deployment-deployed-at"]
    ),
)
_HEADER_EXTRA_KEYS = st.one_of(
    st.text(max_size=10), st.sampled_from(["collection", "deployed-at", "skillmeat-version"])
)


@st.composite
def _legacy_files(draw: st.DrawFn) -> str:
    data: dict[str, Any] = {}
    top = draw(st.dictionaries(st.sampled_from(["notes", LEGACY_KEPT_TABLE]), _VALUES))
    data.update(top)
    if draw(st.booleans()):
        header = draw(st.dictionaries(_HEADER_EXTRA_KEYS, _VALUES, max_size=2))
        header.update(
            draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "collection": st.text(max_size=10),
                        "deployed-at": _TIMESTAMPS,
                        "skillmeat-version": st.sampled_from(["0.2.0-alpha", "0.1.0"]),
                    },
                )
            )
        )
        data["deployment"] = header
    records = []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        record = draw(st.dictionaries(_RECORD_EXTRA_KEYS, _VALUES, max_size=3))
        record.update(
            draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "name": _NAMES,
                        "type": _TYPES,
                        "source": st.text(max_size=20),
                        "version": st.text(max_size=8),
                        "sha": _SHAS,
                        "deployed-at": _TIMESTAMPS,
                        "deployed-from": st.one_of(
                            st.text(max_size=12).map(
                                lambda n: f"/home/u/.skillmeat/collections/{n}"
                            ),
                            st.text(max_size=12),
                        ),
                    },
                )
            )
        )
        records.append(record)
    if records:
        data["artifacts"] = records
    if draw(st.booleans()):
        data["deployed"] = [
            draw(
                st.fixed_dictionaries(
                    {"artifact_name": _NAMES, "artifact_type": _TYPES},
                    optional={"content_hash": _SHAS, "from_collection": st.text(max_size=6)},
                )
            )
            for _ in range(draw(st.integers(min_value=1, max_value=2)))
        ]
    return tomli_w.dumps(data)


_PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@_PROPERTY_SETTINGS
@given(_legacy_files())
def test_every_legacy_value_lands_in_the_output(text: str) -> None:
    out = migrate_text(text)
    parsed = _assert_unified_shape(out)
    missing = _legacy_leaves(tomllib.loads(text)) - set(_leaves(parsed))
    assert not missing, out


@_PROPERTY_SETTINGS
@given(_legacy_files())
def test_migration_is_idempotent(text: str) -> None:
    once = migrate_text(text)
    assert migrate_text(once) == once
    tomllib.loads(once)
