"""Writing deployment files as SkillMeat does, and replacing files atomically."""

from __future__ import annotations

import os
import stat
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

from skillmeat_ls import writer
from skillmeat_ls.schema import UNIFIED_KEY_ORDER
from skillmeat_ls.writer import (
    atomic_write,
    naive_iso,
    order_record,
    render_document,
    render_records,
    render_unified,
    toml_string,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

SAMPLES = Path(__file__).parent / "data" / "samples"
SKILLMEAT_WRITTEN = [
    "unified.real-skillmeat-repo.bf0f68e3.skillmeat-deployed.toml",
    "unified.generated-bf0f68e3-project.skillmeat-deployed.toml",
    "unified-profiles.real-skillmeat-repo.HEAD-9798d2f8.skillmeat-deployed.toml",
    "unified-empty.created-by-api-create-project.bf0f68e3.skillmeat-deployed.toml",
]
HASH = "18d75f739ce2d5d309a18e8f9159daa0382ff24f9967e681cc21e5b365a529de"


@pytest.mark.parametrize("name", SKILLMEAT_WRITTEN)
def test_rerendering_a_file_skillmeat_wrote_gives_the_same_bytes(name: str) -> None:
    original = (SAMPLES / name).read_bytes()
    records = tomllib.loads(original.decode("utf-8"))["deployed"]
    assert render_unified(records).encode("utf-8") == original
    assert render_document(tomllib.loads(original.decode("utf-8"))).encode("utf-8") == original


def test_no_records_is_what_skillmeat_writes_for_a_new_project() -> None:
    assert render_unified([]) == "deployed = []\n"
    assert render_document({}) == "deployed = []\n"


def test_order_record_follows_skillmeat_key_order_with_extras_before_collection_sha() -> None:
    record = {
        "source": "github:user/repo/x",
        "collection_sha": HASH,
        "merge_base_snapshot": HASH,
        "content_hash": HASH,
        "artifact_path": "skills/x",
        "deployed_at": "2026-01-05T15:07:49.157370",
        "version": "1.0.0",
        "from_collection": "default",
        "artifact_type": "skill",
        "artifact_name": "x",
        "platform": "claude_code",
    }
    ordered = order_record(record)
    assert list(ordered) == [
        "artifact_name",
        "artifact_type",
        "from_collection",
        "deployed_at",
        "artifact_path",
        "content_hash",
        "local_modifications",
        "merge_base_snapshot",
        "platform",
        "source",
        "version",
        "collection_sha",
    ]
    assert ordered["local_modifications"] is False
    known = [key for key in ordered if key in UNIFIED_KEY_ORDER]
    assert known == sorted(known, key=UNIFIED_KEY_ORDER.index)


def test_order_record_omits_falsy_optional_keys_and_none() -> None:
    """As ``Deployment.to_dict`` (0.74.0): optional keys only when truthy, except
    ``artifact_uuid`` and ``branch_name``, written whenever they are set."""
    ordered = order_record(
        {
            "artifact_name": "x",
            "content_hash": HASH,
            "parent_hash": "",
            "version_lineage": [],
            "last_modified_check": None,
            "modification_detected_at": "",
            "merge_base_snapshot": "",
            "deployment_profile_id": "",
            "platform": None,
            "profile_root_dir": "",
            "artifact_uuid": "",
            "local_modifications": True,
            "note": None,
        }
    )
    assert ordered == {
        "artifact_name": "x",
        "content_hash": HASH,
        "local_modifications": True,
        "artifact_uuid": "",  # SkillMeat writes it whenever it is not None
        "collection_sha": HASH,
    }


def test_collection_sha_always_equals_content_hash() -> None:
    assert order_record({"content_hash": "a", "collection_sha": "b"})["collection_sha"] == "a"
    # SkillMeat's read fallback: no content_hash, take collection_sha
    assert order_record({"collection_sha": "b"}) == {
        "content_hash": "b",
        "local_modifications": False,
        "collection_sha": "b",
    }
    assert order_record({"content_hash": "", "collection_sha": "b"})["content_hash"] == "b"
    # nothing to write when neither exists
    assert "collection_sha" not in order_record({"artifact_name": "x"})


def test_render_document_keeps_other_top_level_tables() -> None:
    record = {"artifact_name": "x", "content_hash": HASH}
    text = render_document({"legacy-deployment": {"collection": "c"}, "deployed": [record]})
    assert tomllib.loads(text) == {
        "deployed": [order_record(record)],
        "legacy-deployment": {"collection": "c"},
    }
    assert text.index("[[deployed]]") < text.index("[legacy-deployment]")


def test_short_records_are_inline_tables_as_tomli_w_writes_them() -> None:
    # tomli_w's default: an array of tables that each fit on a 100-column line is written inline.
    # SkillMeat's real records never fit (64-hex hashes), but its writer would do the same.
    assert render_unified([{"artifact_name": "x"}]) == (
        'deployed = [\n    { artifact_name = "x", local_modifications = false },\n]\n'
    )


#: Strings as records hold them, and the characters tomli_w escapes or might: quotes,
#: backslashes, control characters, tab, DEL, non-ASCII, line separators, the slot markers.
_strings = st.one_of(
    st.text(),
    st.text(alphabet='ab"\\\t\n\r\x00\x1f\x7f\x80é\u2028@0', max_size=12),
    st.sampled_from(["@0@", '"@0@"', "", HASH]),
)
_values = st.one_of(
    _strings,
    st.booleans(),
    st.lists(_strings, max_size=3),
    st.integers(),  # of no template: tomli_w writes the record
    st.dictionaries(st.text(max_size=3), _strings, max_size=2),
)
_keys = st.one_of(st.text(max_size=8), st.sampled_from(["artifact_name", "@0@", "a b", ""]))
_records = st.one_of(
    st.dictionaries(_keys, _values, max_size=6),
    # records of a template's shape: strings, booleans and non-empty lists of strings
    st.dictionaries(
        _keys,
        st.one_of(_strings, st.booleans(), st.lists(_strings, min_size=1, max_size=3)),
        min_size=1,
        max_size=6,
    ),
)


@given(st.lists(_records, max_size=4))
def test_render_records_is_tomli_w_character_for_character(records: list[dict[str, object]]) -> None:
    assert render_records(records) == tomli_w.dumps({"deployed": records})


@given(st.lists(_records, max_size=4))
def test_rendering_twice_from_the_same_templates_is_tomli_w_again(
    records: list[dict[str, object]],
) -> None:
    # The second rendering of each shape comes from the template the first one cut.
    assert render_records(records) == render_records(records) == tomli_w.dumps(
        {"deployed": records}
    )


@given(_strings)
def test_a_filled_slot_is_the_string_as_tomli_w_quotes_it(value: str) -> None:
    assert writer._quoted(value) == toml_string(value)


def test_a_deploys_records_come_from_templates() -> None:
    record = order_record(
        {
            "artifact_name": "review",
            "artifact_type": "command",
            "from_collection": "default",
            "deployed_at": "2026-12-02T06:00:00.123456",
            "artifact_path": "commands/review.md",
            "content_hash": HASH,
            "version_lineage": [HASH],
            "merge_base_snapshot": HASH,
        }
    )
    assert writer._templates.render(record) == tomli_w.dumps({"deployed": [record]})
    assert writer._templates.render({"artifact_name": "x"}) is None  # tomli_w writes it inline


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-01-05T15:07:49.157370", "2026-01-05T15:07:49.157370"),
        ("2025-12-10T10:00:00", "2025-12-10T10:00:00"),
        ("2025-11-15T10:30:00Z", "2025-11-15T10:30:00"),
        ("2026-11-24T02:22:37.820652Z", "2026-11-24T02:22:37.820652"),
        ("2025-11-15T10:30:00+00:00", "2025-11-15T10:30:00"),
        ("2025-11-15T10:30:00+00:00Z", "2025-11-15T10:30:00"),
        ("2025-11-15T12:30:00+02:00", "2025-11-15T10:30:00"),
        ("not a time", "not a time"),
        ("Z", "Z"),
        ("", ""),
        (datetime(2025, 11, 15, 10, 30), "2025-11-15T10:30:00"),
        (datetime(2025, 11, 15, 10, 30, 0, 5, tzinfo=timezone.utc), "2025-11-15T10:30:00.000005"),
        (datetime(2025, 11, 15, 5, 0, tzinfo=timezone(timedelta(hours=-5))), "2025-11-15T10:00:00"),
        (date(2025, 11, 15), "2025-11-15"),
    ],
)
def test_naive_iso(value: str | date, expected: str) -> None:
    assert naive_iso(value) == expected
    assert naive_iso(naive_iso(value)) == naive_iso(value)


def test_naive_iso_keeps_the_offset_when_utc_is_out_of_range() -> None:
    early = datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=2)))
    assert naive_iso(early) == early.isoformat()
    assert naive_iso("0001-01-01T00:00:00+02:00") == "0001-01-01T00:00:00+02:00"


# --- atomic_write -----------------------------------------------------------------------------


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_creates_a_file_with_the_umask_mode(tmp_path: Path) -> None:
    target = tmp_path / ".claude" / ".skillmeat-deployed.toml"
    assert atomic_write(target, "deployed = []\n") is None
    assert target.read_bytes() == b"deployed = []\n"
    umask = os.umask(0)
    os.umask(umask)
    if os.name != "nt":
        assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert _leftovers(target.parent) == []


def test_atomic_write_writes_utf8_without_newline_translation(tmp_path: Path) -> None:
    target = tmp_path / "f.toml"
    text = 'a = "Design Principles — ü"\r\nb = 1\n'
    atomic_write(target, text)
    assert target.read_bytes() == text.encode("utf-8")


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_atomic_write_keeps_the_original_mode(tmp_path: Path) -> None:
    target = tmp_path / "f.toml"
    target.write_text("old\n")
    target.chmod(0o640)
    atomic_write(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640


def test_atomic_write_backup(tmp_path: Path) -> None:
    target = tmp_path / "f.toml"
    target.write_bytes(b"old\r\n")
    if os.name != "nt":
        target.chmod(0o600)
    backup = atomic_write(target, "new\n", backup=True)
    assert backup == tmp_path / "f.toml.bak"
    assert backup.read_bytes() == b"old\r\n"
    assert target.read_bytes() == b"new\n"
    if os.name != "nt":
        assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_atomic_write_backup_of_a_missing_file_is_none(tmp_path: Path) -> None:
    target = tmp_path / "f.toml"
    assert atomic_write(target, "new\n", backup=True) is None
    assert not (tmp_path / "f.toml.bak").exists()


def test_atomic_write_failure_keeps_the_original_and_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.toml"
    target.write_bytes(b"original\n")

    def failing_replace(source: object, destination: object) -> None:
        raise OSError("disk on fire")

    monkeypatch.setattr(writer.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk on fire"):
        atomic_write(target, "new\n")
    assert target.read_bytes() == b"original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.toml"]


def test_atomic_write_failure_while_writing_leaves_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "f.toml"
    target.write_bytes(b"original\n")

    def failing_fsync(descriptor: int) -> None:
        raise OSError("no space left")

    monkeypatch.setattr(writer.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="no space left"):
        atomic_write(target, "new\n", backup=True)
    assert target.read_bytes() == b"original\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.toml"]


@pytest.mark.skipif(os.name == "nt", reason="symlinks need privileges on Windows")
def test_atomic_write_writes_through_a_symlink(tmp_path: Path) -> None:
    real = tmp_path / "real.toml"
    real.write_text("old\n")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    atomic_write(link, "new\n")
    assert link.is_symlink()
    assert real.read_text() == "new\n"
