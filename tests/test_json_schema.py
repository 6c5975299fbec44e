"""The JSON Schema for other TOML tools: generated, published, and in step with the rules.

* The committed copies (``schemas/`` and the VS Code extension's) are the generator's output, and
  the extension contributes its copy for both deployment file names.
* On every real deployment file (the shared reference samples, the repository's copies of them,
  the files SkillMeat 0.74.0 wrote, the examples), the schema reports errors exactly where the
  rules report SM110 (a missing field) or SM111 (a bad type or format): the same record, the
  same key. Files the rules find free of both are valid.
* A real TOML tool (Tombi, and Taplo when it is installed) reads the schema: a valid file passes,
  a broken one fails on the expected lines, a legacy file gets a deprecation warning only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft7Validator

from skillmeat_ls import json_schema
from skillmeat_ls.document import Document, Record, parse_document
from skillmeat_ls.rules import analyze
from skillmeat_ls.rules.records import _is_iso
from skillmeat_ls.schema import DEPLOYED_FILE_NAME, PLAN_FILE_NAME

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
#: The shared reference samples: ``../shared`` beside the repository (as in CI).
SHARED_SAMPLES = ROOT.parent / "shared" / "reference" / "samples"
ROOT_SCHEMA = ROOT / "schemas" / json_schema.SCHEMA_FILE_NAME
EXTENSION = ROOT / "vscode-extension"
EXTENSION_SCHEMA = EXTENSION / "schemas" / json_schema.SCHEMA_FILE_NAME

SCHEMA = json_schema.deployment_file_schema()
VALIDATOR = Draft7Validator(SCHEMA)
RECORD_VALIDATORS = {
    "unified": Draft7Validator(SCHEMA["properties"]["deployed"]["items"]),
    "legacy": Draft7Validator(SCHEMA["properties"]["artifacts"]["items"]),
}
ARRAY_OF = {"deployed": "unified", "artifacts": "legacy"}


# --- published: the committed copies and the extension's contribution -----------------------------


def test_the_schema_is_a_valid_draft_07_schema() -> None:
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-07/schema#"
    Draft7Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", [ROOT_SCHEMA, EXTENSION_SCHEMA], ids=["schemas", "extension"])
def test_committed_schema_is_the_generators_output(path: Path) -> None:
    assert path.is_file(), f"run: python -m skillmeat_ls.json_schema > {path.relative_to(ROOT)}"
    assert path.read_text(encoding="utf-8") == json_schema.render(), (
        f"{path.relative_to(ROOT)} is stale: python -m skillmeat_ls.json_schema > "
        f"{path.relative_to(ROOT)}"
    )


def test_the_generator_writes_sorted_json_with_a_trailing_newline() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "skillmeat_ls.json_schema"],
        capture_output=True,
        check=True,
        cwd=ROOT,
        timeout=60,
    )
    text = done.stdout.decode("utf-8")
    assert text == json_schema.render()
    assert text.endswith("}\n") and not text.endswith("\n\n") and "\r" not in text
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert json_schema.main(["--help"]) == 2


def test_the_extension_contributes_the_schema_for_both_file_names() -> None:
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributed = manifest["contributes"]["tomlValidation"]
    assert contributed == [
        {
            "fileMatch": ["**/.*/.skillmeat-deployed.toml", "**/.claude/deployment.toml"],
            "url": "./schemas/skillmeat-deployed.schema.json",
        }
    ]
    # The same globs the extension activates on.
    activation = [
        event.split(":", 1)[1]
        for event in manifest["activationEvents"]
        if event.startswith("workspaceContains:")
    ]
    assert contributed[0]["fileMatch"] == activation
    assert (EXTENSION / contributed[0]["url"]).resolve() == EXTENSION_SCHEMA
    # Packaged: .vscodeignore keeps only what it names, and the vsix check requires it.
    assert "!schemas/*.json" in (EXTENSION / ".vscodeignore").read_text().splitlines()
    assert (
        "'schemas/skillmeat-deployed.schema.json'"
        in (EXTENSION / "scripts" / "check-vsix.mjs").read_text()
    )


def test_every_unified_key_is_described() -> None:
    record = SCHEMA["properties"]["deployed"]["items"]
    assert record["additionalProperties"] is True
    for key, prop in record["properties"].items():
        assert len(prop["description"]) > 20, key
    types = record["properties"]["artifact_type"]["anyOf"]
    assert "mcp_server" in types[0]["enum"] and "soul" in types[0]["enum"]
    assert types[1] == {"type": "string"}  # an unknown type is no error
    assert "bob" in record["properties"]["platform"]["enum"]


# --- validated: the schema agrees with SM110/SM111 on every real file ------------------------------

Finding = tuple[str, int, str]  # (record schema, number among that schema's records, key)


def _deployment_files() -> Iterator[Any]:
    sources = [
        ("shared", SHARED_SAMPLES),
        ("samples", DATA / "samples"),
        ("skillmeat-0.74", DATA / "skillmeat-0.74"),
        ("examples", ROOT / "examples" / "workspace"),
    ]
    for label, folder in sources:
        if not folder.is_dir():
            yield pytest.param(
                None,
                id=label,
                marks=pytest.mark.skip(
                    reason=f"the shared reference samples are not here: {folder}"
                ),
            )
            continue
        for path in sorted(folder.rglob("*.toml")):
            name = path.name
            if name in (DEPLOYED_FILE_NAME, PLAN_FILE_NAME) or name.startswith(
                ("unified", "legacy")
            ):
                yield pytest.param(path, id=f"{label}/{path.relative_to(folder)}")


def _key_of(record: Record, span: tuple[int, int]) -> str:
    for key in record.chunk.entries:
        found = record.field(key)
        if found is not None and found.value_span == span:
            return key
    raise AssertionError(f"no field of record {record.index} has the span {span}")


def _rule_findings(doc: Document) -> set[Finding]:
    """Where SM110 and SM111 fire: the record, and the key missing or malformed."""
    numbers = {
        id(r): i
        for records in (doc.unified_records(), doc.legacy_records())
        for i, r in enumerate(records)
    }
    found: set[Finding] = set()
    for diagnostic in analyze(doc):
        if diagnostic.code not in ("SM110", "SM111"):
            continue
        record = doc.record_at(diagnostic.span[0])
        assert record is not None, diagnostic
        number = numbers[id(record)]
        if diagnostic.code == "SM110":
            assert diagnostic.data is not None
            found.update((record.schema, number, key) for key in diagnostic.data["missing"])
        else:
            found.add((record.schema, number, _key_of(record, diagnostic.span)))
    return found


def _schema_findings_of(errors: Any, prefix: tuple[Any, ...] = ()) -> set[Any]:
    found: set[Any] = set()
    for error in errors:
        path = (*prefix, *error.absolute_path)
        if len(path) >= 3 and path[0] in ARRAY_OF:
            found.add((ARRAY_OF[path[0]], path[1], path[2]))
        elif len(path) == 2 and path[0] in ARRAY_OF and error.validator == "required":
            missing = [k for k in error.validator_value if k not in error.instance]
            found.update((ARRAY_OF[path[0]], path[1], key) for key in missing)
        elif len(path) == 2 and path[0] == "deployed" and error.validator == "anyOf":
            found.add(("unified", path[1], "content_hash"))  # nor a collection_sha to fall back on
        else:
            found.add(("file", *path, error.message))
    return found


def _schema_findings(text: str, doc: Document) -> set[Any]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        # A file with a syntax error: check the records that parsed, as the rules do.
        found: set[Any] = set()
        for schema, key in (("unified", "deployed"), ("legacy", "artifacts")):
            records = doc.unified_records() if schema == "unified" else doc.legacy_records()
            for number, record in enumerate(records):
                if record.chunk.data is not None:
                    errors = RECORD_VALIDATORS[schema].iter_errors(record.chunk.data)
                    found |= _schema_findings_of(errors, (key, number))
        return found
    return _schema_findings_of(VALIDATOR.iter_errors(data))


@pytest.mark.parametrize("path", list(_deployment_files()))
def test_schema_errors_are_where_sm110_and_sm111_fire(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    doc = parse_document(text)
    assert _schema_findings(text, doc) == _rule_findings(doc)


def test_the_files_cover_both_verdicts() -> None:
    """Valid files, and files with findings of both codes, are among those compared above."""
    paths = [p.values[0] for p in _deployment_files() if p.values[0] is not None]
    verdicts = [_rule_findings(parse_document(p.read_text(encoding="utf-8"))) for p in paths]
    assert sum(1 for v in verdicts if not v) >= 10
    broken = _rule_findings(
        parse_document(
            (ROOT / "examples/workspace/broken/.claude/.skillmeat-deployed.toml").read_text()
        )
    )
    assert broken == {
        ("unified", 0, "deployed_at"),
        ("unified", 0, "content_hash"),
        ("unified", 0, "local_modifications"),
        ("unified", 1, "from_collection"),
        ("unified", 1, "deployed_at"),
        ("unified", 1, "artifact_path"),
        ("unified", 1, "content_hash"),
    }


HASH = "c30d940588a42daa006f1d8ac549335ee7c761fa8b03d0ddfb3684e3921a33c9"
BASE = (
    '[[deployed]]\nartifact_name = "review"\nartifact_type = "command"\n'
    'from_collection = "default"\ndeployed_at = "2026-12-01T07:44:25.532386"\n'
    'artifact_path = "commands/review.md"\n'
)


@pytest.mark.parametrize(
    "extra",
    [
        f'content_hash = "{HASH}"\ncollection_sha = "{HASH}"\n',  # what SkillMeat writes
        f'collection_sha = "{HASH}"\n',  # SkillMeat falls back to collection_sha
        'collection_sha = ""\n',  # ... but not to an empty one
        'content_hash = ""\n',  # an empty hash is no format error (the rules let it through)
        'content_hash = "ABC"\nparent_hash = "x"\nmerge_base_snapshot = 3\n',
        f'content_hash = "{HASH}"\nversion_lineage = ["{HASH}", "short"]\n',
        f'content_hash = "{HASH}"\nversion_lineage = "{HASH}"\n',
        f'content_hash = "{HASH}"\nplatform = "bob"\nartifact_uuid = "{HASH[:32]}"\n',
        f'content_hash = "{HASH}"\nplatform = "windsurf"\nartifact_uuid = ""\n',
        f'content_hash = "{HASH}"\nlast_modified_check = 2026-12-01T07:44:25\n',
        f'content_hash = "{HASH}"\nmodification_detected_at = "soon"\n',
        f'content_hash = "{HASH}"\ndeployment_profile_id = "mytool"\nprofile_root_dir = ".mytool"\n',
        f'content_hash = "{HASH}"\ndeployment_profile_id = 7\nprofile_root_dir = false\n',
        f'content_hash = "{HASH}"\nbranch_name = 3\nsource = "local:/x"\nunknown = [1]\n',
        f'content_hash = "{HASH}"\n[deployed.extra]\nkept = true\n',
    ],
)
def test_edge_records_get_the_rules_verdict(extra: str) -> None:
    text = BASE + extra
    doc = parse_document(text)
    assert _schema_findings(text, doc) == _rule_findings(doc)


@pytest.mark.parametrize(
    "text",
    [
        BASE.replace('"command"', '"mcp_server"') + f'content_hash = "{HASH}"\n',
        BASE.replace('"command"', '"workflows"') + f'content_hash = "{HASH}"\n',  # SM112 only
        BASE.replace('"command"', '"quantum"') + f'content_hash = "{HASH}"\n',  # SM112 only
        BASE.replace('"command"', "3") + f'content_hash = "{HASH}"\n',
        BASE.replace('"review"', '"  "') + f'content_hash = "{HASH}"\n',
        "schema = 2\n[other]\nx = 1\n" + BASE + f'content_hash = "{HASH}"\n',  # SM103 only
        "deployed = []\n",
        '[legacy-deployment]\ncollection = "work"\n',
    ],
)
def test_types_names_and_unknown_keys_get_the_rules_verdict(text: str) -> None:
    doc = parse_document(text)
    assert _schema_findings(text, doc) == _rule_findings(doc)


def test_a_legacy_file_is_described_as_deprecated_not_rejected() -> None:
    for key in ("deployment", "artifacts"):
        prop = SCHEMA["properties"][key]
        assert prop["deprecated"] is True
        assert "migrate" in prop["deprecationMessage"]
    legacy = (ROOT / "examples/workspace/legacy/.claude/.skillmeat-deployed.toml").read_text()
    assert not list(VALIDATOR.iter_errors(tomllib.loads(legacy)))


# --- the timestamp pattern is never stricter than datetime.fromisoformat ---------------------------

ISO = re.compile(json_schema.ISO_DATE_PREFIX)


@st.composite
def _iso_like(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)))
    if draw(st.booleans()):
        offset = timedelta(minutes=draw(st.integers(-23 * 60, 23 * 60)))
        moment = moment.replace(tzinfo=timezone(offset))
    if draw(st.booleans()):
        spec = draw(st.sampled_from(["auto", "hours", "minutes", "seconds", "milliseconds"]))
        text = moment.isoformat(sep=draw(st.sampled_from(["T", " ", "t", "x"])), timespec=spec)
    else:
        year, week, day = moment.isocalendar()
        text = draw(st.sampled_from([f"{year:04d}-W{week:02d}-{day}", f"{year:04d}W{week:02d}"]))
        text += draw(st.sampled_from(["", "T10", "T10:30", "T103000"]))
    if draw(st.booleans()):
        text = text.replace("-", "", 2).replace(":", "")  # the basic format
    return text + draw(st.sampled_from(["", "Z", "z", "+00:00", "-0530"]))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_iso_like(), st.text(alphabet="0123456789-:.,+TWZz ", max_size=30)))
def test_the_timestamp_pattern_accepts_whatever_the_rule_accepts(value: str) -> None:
    if _is_iso(value):
        assert ISO.search(value), value


def test_the_timestamp_pattern_rejects_what_is_no_iso_date() -> None:
    for value in ["", "yesterday", "15/01/2026", "2026-1-5", "Jan 15 2026", " 2026-01-15"]:
        assert not _is_iso(value) and not ISO.search(value), value


# --- a real TOML tool reads it ---------------------------------------------------------------------

VALID = DATA / "skillmeat-0.74" / "project" / ".claude" / DEPLOYED_FILE_NAME
LEGACY = ROOT / "examples" / "workspace" / "legacy" / ".claude" / DEPLOYED_FILE_NAME
BROKEN = (
    '[[deployed]]\nartifact_name = "helper"\nartifact_type = "agents"\n'
    'from_collection = "default"\ndeployed_at = 2026-01-15T09:12:44\n'
    'artifact_path = "agents/helper.md"\ncontent_hash = "abc123"\n'
    'local_modifications = "no"\nplatform = "nope"\nkept_by_migration = 1\n\n'
    '[[deployed]]\nartifact_name = "planner"\nartifact_type = "agent"\n'
)
#: 1-based lines of BROKEN where an error belongs: deployed_at, content_hash,
#: local_modifications, platform, and the second record's header (missing fields).
BROKEN_LINES = {5, 7, 8, 9, 12}


def _tool(name: str) -> str | None:
    here = Path(sys.executable).parent / name
    return str(here) if here.is_file() else shutil.which(name)


def _project(tmp_path: Path) -> Path:
    """A project with a valid, a broken and a legacy profile root, and the schema beside it."""
    shutil.copy(ROOT_SCHEMA, tmp_path / json_schema.SCHEMA_FILE_NAME)
    for root, text in (
        (".claude", VALID.read_text()),
        (".agents", BROKEN),
        (".codex", LEGACY.read_text()),
    ):
        (tmp_path / root).mkdir()
        (tmp_path / root / DEPLOYED_FILE_NAME).write_text(text)
    return tmp_path


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(cwd / "home"),
        "XDG_CACHE_HOME": str(cwd / "cache"),
        "TOMBI_OFFLINE": "1",
        "NO_COLOR": "1",
    }
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _error_lines(output: str) -> set[int]:
    return {int(m) for m in re.findall(r"Error\b[^\n]*\n\s*at \S+?:(\d+):\d+", output)}


@pytest.fixture
def tombi() -> str:
    found = _tool("tombi")
    if found is None:
        pytest.skip("tombi is not installed (pip install tombi)")
    return found


def test_tombi_lints_with_the_schema_from_its_config(tombi: str, tmp_path: Path) -> None:
    project = _project(tmp_path)
    (project / "tombi.toml").write_text(
        'toml-version = "v1.0.0"\n\n[[schemas]]\n'
        f'path = "{json_schema.SCHEMA_FILE_NAME}"\n'
        'include = ["**/.*/.skillmeat-deployed.toml", "**/.claude/deployment.toml"]\n'
    )
    valid = _run([tombi, "lint", "--offline", f".claude/{DEPLOYED_FILE_NAME}"], project)
    assert valid.returncode == 0, valid.stderr + valid.stdout
    broken = _run([tombi, "lint", "--offline", f".agents/{DEPLOYED_FILE_NAME}"], project)
    assert broken.returncode != 0
    output = broken.stderr + broken.stdout
    assert _error_lines(output) == BROKEN_LINES, output
    assert "agents" not in re.findall(r'found "([^"]+)"', output)  # an unknown type: no error
    legacy = _run([tombi, "lint", "--offline", f".codex/{DEPLOYED_FILE_NAME}"], project)
    assert legacy.returncode == 0, legacy.stderr + legacy.stdout
    warnings = legacy.stderr + legacy.stdout
    assert "`deployment` is deprecated" in warnings and "`artifacts` is deprecated" in warnings
    assert "Error" not in warnings


def test_tombi_reads_the_schema_directive(tombi: str, tmp_path: Path) -> None:
    project = _project(tmp_path)
    target = project / ".agents" / DEPLOYED_FILE_NAME
    target.write_text(f"#:schema ../{json_schema.SCHEMA_FILE_NAME}\n\n" + BROKEN)
    broken = _run([tombi, "lint", "--offline", str(target)], project)
    assert broken.returncode != 0
    shifted = {line + 2 for line in BROKEN_LINES}
    assert _error_lines(broken.stderr + broken.stdout) == shifted, broken.stderr


def test_taplo_lints_with_the_schema_from_its_config(tmp_path: Path) -> None:
    taplo = _tool("taplo")
    if taplo is None:
        pytest.skip("taplo is not installed (npm install @taplo/cli, or cargo install taplo-cli)")
    project = _project(tmp_path)
    (project / ".taplo.toml").write_text(
        '[[rule]]\ninclude = ["**/.*/.skillmeat-deployed.toml", "**/.claude/deployment.toml"]\n\n'
        f'[rule.schema]\npath = "./{json_schema.SCHEMA_FILE_NAME}"\n'
    )
    command = [taplo, "lint", "--no-auto-config", "-c", ".taplo.toml"]
    for root in (".claude", ".codex"):
        done = _run([*command, f"{root}/{DEPLOYED_FILE_NAME}"], project)
        assert done.returncode == 0, done.stderr
    broken = _run([*command, f".agents/{DEPLOYED_FILE_NAME}"], project)
    assert broken.returncode != 0
    # Taplo hands a TOML datetime to the validator as a string, so it cannot see that
    # deployed_at is unquoted; the rest it reports.
    for message in [
        '"abc123" does not match',
        '"no" is not of type "boolean"',
        '"nope" is not one of',
        '"from_collection" is a required property',
    ]:
        assert message in broken.stderr, broken.stderr
