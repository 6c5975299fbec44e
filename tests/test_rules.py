"""Each diagnostic rule fires where it should, on the smallest span, and stays quiet otherwise."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmeat_ls.document import parse_document
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import load_collections
from skillmeat_ls.rules import Analyzer, Context, Diagnostic, RuleSettings, Severity, analyze
from skillmeat_ls.workspace import DiskProbe

H1 = "a" * 64
H2 = "b" * 64


def record(**fields: object) -> str:
    base: dict[str, object] = {
        "artifact_name": "review",
        "artifact_type": "command",
        "from_collection": "default",
        "deployed_at": "2026-01-05T15:07:49.157370",
        "artifact_path": "commands/review.md",
        "content_hash": H1,
        "local_modifications": False,
    }
    base.update(fields)
    lines = ["[[deployed]]"]
    for key, value in base.items():
        if value is None:
            continue
        if isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, (int, list)) or (isinstance(value, str) and value.startswith("@")):
            rendered = str(value).lstrip("@")
        else:
            rendered = f'"{value}"'
        lines.append(f"{key} = {rendered}")
    return "\n".join(lines) + "\n\n"


def codes(text: str, context: Context | None = None) -> list[str]:
    return [d.code for d in analyze(parse_document(text), context)]


def only(text: str, code: str, context: Context | None = None) -> Diagnostic:
    found = [d for d in analyze(parse_document(text), context) if d.code == code]
    assert len(found) == 1, found
    return found[0]


def spanned(text: str, diagnostic: Diagnostic) -> str:
    return text[diagnostic.span[0] : diagnostic.span[1]]


def test_clean_record_has_no_findings() -> None:
    assert codes(record()) == []


def test_sm100_syntax_error_position() -> None:
    text = record() + "artifact_name = \n"
    found = only(text, "SM100")
    assert found.severity is Severity.ERROR
    assert parse_document(text).position(found.span[0])[0] == 9


def test_sm100_bytes_that_are_not_utf8_are_the_only_finding(tmp_path: Path) -> None:
    """Not even a rule that reads only the file's name (SM104) speaks about a file that is not
    text; the one finding quotes no value of it."""
    plan = tmp_path / ".claude" / "deployment.toml"
    text = (record(artifact_type="skils") + "x = 1\n[[deployed]]\n").replace("skils", "sk\udcffils")
    found = analyze(parse_document(text), Context(file_path=plan, disk=DiskProbe()))
    assert [(d.code, d.span[0]) for d in found] == [("SM100", text.index("\udcff"))]
    assert found[0].message.startswith("bytes that are not UTF-8 (0xff) at line 3, column 20: ")
    found[0].message.encode("utf-8")


def test_sm101_on_first_legacy_header() -> None:
    text = "# note\n[deployment]\ncollection = 'default'\n"
    found = only(text, "SM101")
    assert spanned(text, found) == "[deployment]"
    assert codes(record()) == []


def test_sm102_mixed() -> None:
    text = record() + "[[artifacts]]\nname = 'x'\n"
    found = only(text, "SM102")
    assert spanned(text, found) == "[[artifacts]]"
    assert "SM101" in codes(text)


def test_sm103_unknown_top_level() -> None:
    text = "version = 2\n" + record() + "[extra]\na = 1\n"
    found = [d for d in analyze(parse_document(text)) if d.code == "SM103"]
    assert [spanned(text, d) for d in found] == ["version", "[extra]"]
    assert codes("deployed = []\n") == []


def test_sm104_plan_file(tmp_path: Path) -> None:
    claude = tmp_path / ".claude"
    claude.mkdir()
    plan = claude / "deployment.toml"
    context = Context(file_path=plan, disk=DiskProbe())
    alone = only("deployed = []\n", "SM104", context)
    assert alone.severity is Severity.INFORMATION
    (claude / ".skillmeat-deployed.toml").write_text("deployed = []\n")
    context.disk.forget()  # what the server does when the editor reports a new file
    both = only("deployed = []\n", "SM104", context)
    assert both.severity is Severity.WARNING
    assert both.related[0].path == claude / ".skillmeat-deployed.toml"
    other = Context(file_path=claude / ".skillmeat-deployed.toml", disk=DiskProbe())
    assert "SM104" not in codes("deployed = []\n", other)


def test_sm110_required_fields_on_header() -> None:
    text = record(artifact_path=None, content_hash=None)
    found = only(text, "SM110")
    assert spanned(text, found) == "[[deployed]]"
    assert found.data == {"missing": ["artifact_path", "content_hash"]}
    # content_hash falls back to collection_sha, as SkillMeat reads it
    assert "SM110" not in codes(record(content_hash=None, collection_sha=H1))


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("content_hash", "abc123", '"abc123"'),
        ("deployed_at", "@2026-01-05T15:07:49", "2026-01-05T15:07:49"),
        ("deployed_at", "yesterday", '"yesterday"'),
        ("local_modifications", "@1", "1"),
        ("version_lineage", '@["nothex"]', '["nothex"]'),
        ("platform", "vim", '"vim"'),
        ("artifact_uuid", "123", '"123"'),
        ("artifact_name", "@7", "7"),
    ],
)
def test_sm111_field_formats(field: str, value: object, fragment: str) -> None:
    text = record(**{field: value})
    assert spanned(text, only(text, "SM111")) == fragment


@pytest.mark.parametrize(
    "value", ["2025-11-15T10:30:00Z", "2025-11-15T10:30:00+00:00", "2025-12-10T10:00:00"]
)
def test_sm111_accepts_every_real_timestamp_form(value: str) -> None:
    assert codes(record(deployed_at=value)) == []


def test_sm112_unknown_type_with_suggestion() -> None:
    text = record(artifact_type="skills", artifact_path="skills/review")
    found = only(text, "SM112")
    assert spanned(text, found) == '"skills"'
    assert found.data == {"suggestion": "skill"}
    for known in ("rule_file", "workflow", "composite", "mcp_server", "project_config"):
        assert "SM112" not in codes(record(artifact_type=known, artifact_path="x/y.md"))


def test_sm113_path_under_another_types_folder() -> None:
    text = record(artifact_path="skills/review.md")
    found = only(text, "SM113")
    assert spanned(text, found) == '"skills/review.md"'
    assert found.data == {"conventional": "commands/review.md"}
    nested = record(artifact_type="agent", artifact_path="agents/pm/prd-writer.md")
    assert codes(nested) == []
    spaced = record(artifact_type="skill", artifact_name="Design Principles",
                    artifact_path="skills/Design Principles")
    assert codes(spaced) == []


@pytest.mark.parametrize(
    "path", ["/etc/passwd", "../../etc/passwd", "skills/../../x", "C:\\\\x", "\\\\\\\\srv\\\\share"]
)
def test_sm114_escaping_paths(path: str) -> None:
    text = record(artifact_path=path)
    assert "SM114" in codes(text)


def test_sm120_duplicate_relates_to_first() -> None:
    text = record() + record()
    doc = parse_document(text)
    found = only(text, "SM120")
    assert found.span == doc.records[1].header_span
    assert found.related[0].span == doc.records[0].header_span
    assert "SM122" not in codes(text)  # the same record twice is one problem, not two


def test_sm121_same_name_different_types_is_information() -> None:
    text = record() + record(artifact_type="skill", artifact_path="skills/review")
    found = [d for d in analyze(parse_document(text)) if d.code == "SM121"]
    assert len(found) == 2
    assert all(d.severity is Severity.INFORMATION for d in found)
    assert "SM120" not in codes(text)


def test_sm122_shared_path() -> None:
    text = record(artifact_type="skill", artifact_name="Design Principles",
                  artifact_path="skills/Design Principles") + record(
        artifact_type="skill", artifact_name="design-principles",
        artifact_path="skills/Design Principles")
    found = only(text, "SM122")
    assert found.related


def test_legacy_records_are_checked_too() -> None:
    text = (
        "[deployment]\ncollection = 'default'\n\n"
        "[[artifacts]]\nname = 'x'\ntype = 'skils'\nsource = 's'\nversion = '1'\n"
        f"sha = '{H1}'\ndeployed-at = '2025-11-15T10:30:00Z'\ndeployed-from = '/c'\n\n"
        "[[artifacts]]\nname = 'x'\ntype = 'skils'\n"
    )
    found = codes(text)
    assert found.count("SM112") == 2
    assert "SM110" in found and "SM120" in found


def test_settings_disable_and_override() -> None:
    text = record(content_hash="abc")
    settings = RuleSettings(severity={"SM111": Severity.HINT})
    (found,) = analyze(parse_document(text), settings=settings)
    assert found.severity is Severity.HINT
    assert analyze(parse_document(text), settings=RuleSettings(disabled=frozenset({"SM111"}))) == []


# --- incremental analysis ------------------------------------------------------------------------

#: Records that trip each record and collision rule, and one that trips none.
_RECORDS = st.sampled_from(
    [
        record(),
        record(artifact_name="review.md"),  # SM120 with record()
        record(artifact_type="mcp_server", artifact_path="mcp/review"),
        record(artifact_type="skill", artifact_path="skills/review"),  # SM121 with record()
        record(artifact_name="other"),  # SM122 with record()
        record(artifact_name="other", deployment_profile_id="codex"),
        record(artifact_type="skils", artifact_path="skills/review"),
        record(artifact_path="../review"),
        record(content_hash="abc", deployed_at="@2026-01-01"),
        record(artifact_path=None, from_collection=None),
        "[[artifacts]]\nname = 'review'\ntype = 'command'\n\n",
        "[[deployed]]\nartifact_name = 'broken\n\n",
        "[extra]\nkey = 1\n\n",
    ]
)
_EDITS = st.lists(
    st.tuples(st.sampled_from(["insert", "replace", "delete"]), st.integers(0, 7), _RECORDS),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_RECORDS, min_size=1, max_size=6), _EDITS, st.booleans())
def test_incremental_analysis_equals_fresh_analysis(
    initial: list[str], edits: list[tuple[str, int, str]], inline: bool
) -> None:
    """An analyzer reusing what it found in earlier versions finds what a fresh one finds."""
    root = 'deployed = [{artifact_name = "x", artifact_type = "skill"}]\n\n' if inline else ""
    chunks = list(initial)
    analyzer = Analyzer()
    doc = None
    for operation, position, text in [("replace", 0, chunks[0]), *edits]:
        at = position % (len(chunks) + 1)
        if operation == "insert":
            chunks.insert(at, text)
        elif at < len(chunks) and (operation == "replace" or len(chunks) == 1):
            chunks[at] = text
        elif at < len(chunks):
            del chunks[at]
        source = root + "".join(chunks)
        doc = parse_document(source, previous=doc)
        assert analyzer.analyze(doc) == analyze(parse_document(source)), source


def test_sm110_names_a_nameless_record_by_its_number_after_records_are_added_above() -> None:
    """The record rules' findings are reused per unchanged chunk, but not the number of a record
    that is named by it: inserting records above renumbers it."""
    nameless = record(artifact_name=None)
    analyzer = Analyzer()
    doc = None
    for above in range(4):
        text = record(artifact_name=f"r{above}") * above + nameless + record(artifact_name="last")
        doc = parse_document(text, previous=doc)
        [found] = [d for d in analyzer.analyze(doc) if d.code == "SM110"]
        assert found.message.startswith(f"record {above + 1}: missing required field ")
        assert analyzer.analyze(doc) == analyze(parse_document(text))


# --- environment rules: real collections and a real project on disk ------------------------------


@pytest.fixture
def world(tmp_path: Path) -> dict[str, Path]:
    home = tmp_path / "home"
    for name, files in {
        "default": {"commands/review.md": "# Review\n", "skills/review/SKILL.md": "# skill\n"},
        "team": {"commands/review.md": "# Team review\n"},
    }.items():
        root = home / "collections" / name
        artifacts = []
        for rel, body in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(body)
            artifact_type = "command" if rel.startswith("commands") else "skill"
            artifact_path = rel if artifact_type == "command" else "skills/review"
            artifacts.append(
                f'[[artifacts]]\nname = "review"\ntype = "{artifact_type}"\n'
                f'path = "{artifact_path}"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n'
            )
        (root / "collection.toml").write_text(
            f'[collection]\nname = "{name}"\nversion = "1.0.0"\n'
            'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n\n'
            + "\n".join(artifacts)
        )
    project = tmp_path / "project"
    (project / ".claude" / "commands").mkdir(parents=True)
    (project / ".claude" / "commands" / "review.md").write_text("# Review\n")
    return {"home": home, "project": project}


def env_context(world: dict[str, Path]) -> Context:
    return Context(
        file_path=world["project"] / ".claude" / ".skillmeat-deployed.toml",
        collections=load_collections(world["home"]),
        disk=DiskProbe(),
    )


def hash_of(text: str, tmp_path: Path) -> str:
    probe = tmp_path / "probe.md"
    probe.write_text(text)
    return content_hash(probe)


def test_in_sync_record_is_clean(world: dict[str, Path], tmp_path: Path) -> None:
    text = record(content_hash=hash_of("# Review\n", tmp_path))
    assert codes(text, env_context(world)) == []


def test_sm130_unknown_collection_suggests(world: dict[str, Path]) -> None:
    text = record(from_collection="defualt")
    found = only(text, "SM130", env_context(world))
    assert spanned(text, found) == '"defualt"'
    assert found.data is not None and found.data["suggestions"][0] == "default"


def test_sm131_collection_lacks_the_pair(world: dict[str, Path]) -> None:
    text = record(from_collection="team", artifact_type="skill", artifact_path="skills/review")
    found = only(text, "SM131", env_context(world))
    assert "default" in found.data["collections"]  # type: ignore[index]
    # the command exists in team: matched on (name, type), never the name alone
    assert "SM131" not in codes(record(from_collection="team"), env_context(world))


def test_sm132_missing_on_disk(world: dict[str, Path]) -> None:
    text = record(artifact_name="gone", artifact_path="commands/gone.md")
    found = only(text, "SM132", env_context(world))
    assert spanned(text, found) == '"commands/gone.md"'


def test_drift_states(world: dict[str, Path], tmp_path: Path) -> None:
    original = hash_of("# Review\n", tmp_path)
    context = env_context(world)
    deployed = world["project"] / ".claude" / "commands" / "review.md"
    collection_copy = world["home"] / "collections" / "default" / "commands" / "review.md"
    assert codes(record(content_hash=original), context) == []

    deployed.write_text("# Review, edited here\n")
    assert codes(record(content_hash=original), context) == []  # the probe trusts what it saw
    context.disk.forget(deployed)  # until told the file changed, as the server is by the editor
    assert "SM140" in codes(record(content_hash=original), context)

    deployed.write_text("# Review\n")
    collection_copy.write_text("# Review v2\n")
    context = env_context(world)
    assert "SM141" in codes(record(content_hash=original), context)

    deployed.write_text("# Review, edited here\n")
    context.disk.forget()
    found = only(record(content_hash=original), "SM142", context)
    assert found.severity is Severity.WARNING


def test_hostile_paths_are_never_read(world: dict[str, Path], tmp_path: Path) -> None:
    secret = world["project"] / "secret.md"
    secret.write_text("# outside .claude\n")
    link = world["project"] / ".claude" / "commands" / "link.md"
    link.symlink_to(secret)
    context = env_context(world)
    for path in ("../secret.md", str(secret), "commands/link.md"):
        text = record(artifact_name="x", artifact_path=path, content_hash=H2)
        found = codes(text, context)
        assert not {"SM140", "SM141", "SM142"} & set(found), (path, found)


def skill_copy(world: dict[str, Path]) -> Path:
    """The deployed copy of the skill ``review``, as the collection holds it."""
    copy = world["project"] / ".claude" / "skills" / "review"
    copy.mkdir(parents=True)
    (copy / "SKILL.md").write_text("# skill\n")
    return copy


def skill_record(digest: str) -> str:
    return record(artifact_type="skill", artifact_path="skills/review", content_hash=digest)


def test_sm133_a_symlink_out_of_the_root_is_not_followed(world: dict[str, Path]) -> None:
    copy = skill_copy(world)
    digest = content_hash(copy)
    secret = world["project"] / "secret.md"  # beside .claude/, not in it
    secret.write_text("# not the skill's\n")
    (copy / "notes.md").symlink_to(secret)
    text = skill_record(digest)
    found = only(text, "SM133", env_context(world))
    assert spanned(text, found) == '"skills/review"'
    assert ".claude/skills/review/notes.md is a symlink to" in found.message
    assert str(secret) in found.message
    assert not {"SM140", "SM141", "SM142", "SM132"} & set(codes(text, env_context(world)))
    # whatever the outside file holds, the verdict stays the same: it is never read
    secret.write_text("# changed\n")
    assert codes(text, env_context(world)) == ["SM133"]


def test_sm133_a_special_file_in_the_copy(world: dict[str, Path]) -> None:
    copy = skill_copy(world)
    digest = content_hash(copy)  # SkillMeat's hash skips FIFOs; the copy still holds one
    os.mkfifo(copy / "pipe")
    found = only(skill_record(digest), "SM133", env_context(world))
    assert "pipe is a special file" in found.message


def test_a_symlink_that_stays_inside_is_hashed_as_skillmeat_hashes_it(
    world: dict[str, Path],
) -> None:
    copy = skill_copy(world)
    shared = world["project"] / ".claude" / "shared.md"
    shared.write_text("# shared notes\n")
    (copy / "notes.md").symlink_to(shared)
    digest = content_hash(copy)  # the target's bytes, as SkillMeat's rglob reads them
    assert codes(skill_record(digest), env_context(world)) == ["SM141"]  # differs from default's
    shared.write_text("# shared notes, edited\n")
    context = env_context(world)
    assert "SM142" in codes(skill_record(digest), context)  # the edit through the link counts
