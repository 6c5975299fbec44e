"""The collections index: real homes in temporary directories, a real SQLite cache, no mocks."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from skillmeat_ls.cache import Cache, initialize_cache
from skillmeat_ls.hashing import content_hash
from skillmeat_ls.index import (
    CollectionIndex,
    IndexProblem,
    load_collections,
    open_index,
)

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DATA_HOME = Path(__file__).parent / "data" / "skillmeat-home"
EXAMPLE_HOME = Path(__file__).resolve().parents[1] / "examples" / "home"

V6 = "18d75f739ce2d5d309a18e8f9159daa0382ff24f9967e681cc21e5b365a529de"
V7 = "53b2b2020e0118f37afaa56af3b3acba5d07ce9118be2dc5b1d2f4cc95b348b5"
V8 = "81948d8bddd95ef4ca7daf92590ace809467bd98a78c1a0ac4252cfb9fab1d69"

HEADER = """\
[collection]
name = "{name}"
version = "1.0.0"
created = "2026-01-12T09:14:03.512044"
updated = "2026-01-12T09:14:03.512044"
"""


def artifact_toml(name: str, type_: str, path: str, description: str | None = None) -> str:
    text = f"""
[[artifacts]]
name = "{name}"
type = "{type_}"
path = "{path}"
origin = "local"
added = "2026-01-12T09:15:47.201518"
"""
    if description is not None:
        text += f'\n[artifacts.metadata]\ndescription = "{description}"\n'
    return text


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def write_lock(root: Path) -> None:
    """A ``collection.lock`` with the real hashes of every artifact the manifest lists."""
    manifest = tomllib.loads((root / "collection.toml").read_text(encoding="utf-8"))
    lines = ['[lock]\nversion = "1.0.0"\n']
    for artifact in manifest.get("artifacts", []):
        digest = content_hash(root / artifact["path"])
        lines.append(
            f'[lock.entries."{artifact["name"]}::{artifact["type"]}"]\n'
            f'content_hash = "{digest}"\nfetched = "2026-01-12T09:15:47.203377"\n'
        )
    write(root / "collection.lock", "\n".join(lines))


TEAM_GROUPS = """
[[groups]]
name = "planning"
description = "Agents for breaking work down"
color = "green"
icon = "list"
position = 1
members = ["agent:planner"]

[[groups]]
name = "review"
description = "What every pull request goes through"
color = "blue"
icon = "check"
position = 0
members = ["skill:code-review", "command:deploy-check"]
"""


def make_home(base: Path) -> Path:
    """Collections ``default`` (``code-review`` as a skill and as a command) and ``team``."""
    home = base / "home"
    default = home / "collections" / "default"
    write(default / "skills" / "code-review" / "SKILL.md", "---\nname: code-review\n---\n# A\n")
    write(default / "skills" / "code-review" / "scripts" / "run.py", "print('a')\n")
    write(default / "commands" / "code-review.md", "# /code-review\n")
    write(default / "agents" / "helper.md", "# Helper\n")
    write(
        default / "collection.toml",
        HEADER.format(name="default")
        + artifact_toml("code-review", "skill", "skills/code-review", "Review a diff")
        + artifact_toml("code-review", "command", "commands/code-review.md", "Review staged")
        + artifact_toml("helper", "agent", "agents/helper.md"),
    )
    write_lock(default)
    team = home / "collections" / "team"
    write(team / "skills" / "code-review" / "SKILL.md", "---\nname: code-review\n---\n# B\n")
    write(team / "commands" / "deploy-check.md", "# /deploy-check\n")
    write(team / "agents" / "planner.md", "# Planner\n")
    write(
        team / "collection.toml",
        HEADER.format(name="team")
        + artifact_toml("code-review", "skill", "skills/code-review")
        + artifact_toml("deploy-check", "command", "commands/deploy-check.md")
        + artifact_toml("planner", "agent", "agents/planner.md")
        + TEAM_GROUPS,
    )
    write_lock(team)
    return home


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    opened = initialize_cache(tmp_path / "c.db")
    yield opened
    opened.close()


class CountingHasher:
    """A ``hasher`` for :func:`load_collections` that records every path the index hashes, in
    order, in ``calls`` (the real :func:`content_hash` still does the work)."""

    def __init__(self) -> None:
        self.calls: list[Path] = []

    def __call__(self, path: Path) -> str:
        self.calls.append(Path(path))
        return content_hash(path)


@pytest.fixture
def hasher() -> CountingHasher:
    return CountingHasher()


def query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as conn:
        return sorted(conn.execute(sql, args).fetchall())


def messages(index: CollectionIndex) -> str:
    return "\n".join(str(problem) for problem in index.problems)


# --- reading ---------------------------------------------------------------------------------------


def test_loads_the_real_home_written_by_skillmeat(tmp_path: Path) -> None:
    home = tmp_path / ".skillmeat"
    shutil.copytree(DATA_HOME, home)
    index = load_collections(home)
    assert index.problems == ()
    assert index.names() == ["default"]
    default = index.get("default")
    assert default is not None
    assert default.path == (home / "collections" / "default").absolute()
    assert list(default.artifacts) == [
        ("my-skill", "skill"),
        ("review", "command"),
        ("helper", "agent"),
    ]
    skill = default.artifacts[("my-skill", "skill")]
    assert skill.rel_path == "skills/my-skill"
    assert skill.path == default.path / "skills" / "my-skill"
    assert skill.description == "Example skill"
    assert skill.artifact_id == "skill:my-skill"
    assert skill.key == ("my-skill", "skill")
    assert skill.groups == ()
    hashes = {a.name: (a.content_hash, a.lock_hash) for a in default.artifacts.values()}
    assert hashes == {"my-skill": (V6, V6), "review": (V7, V7), "helper": (V8, V8)}
    assert default.artifacts[("helper", "agent")].description is None


def test_loads_the_example_home_with_every_lock_hash_matching() -> None:
    index = load_collections(EXAMPLE_HOME)
    assert index.problems == ()
    assert index.names() == ["default", "team"]
    for collection in index.collections.values():
        for artifact in collection.artifacts.values():
            assert artifact.content_hash is not None, artifact.artifact_id
            assert artifact.content_hash == artifact.lock_hash, artifact.artifact_id
    default, team = index.collections["default"], index.collections["team"]
    assert {a.type for a in default.find("code-review")} == {"skill", "command"}
    assert team.artifacts[("code-review", "skill")].content_hash != (
        default.artifacts[("code-review", "skill")].content_hash
    )
    assert [g.name for g in team.groups] == ["review", "planning"]


def test_same_name_as_skill_and_command_and_across_collections(tmp_path: Path) -> None:
    index = load_collections(make_home(tmp_path))
    assert index.problems == ()
    default = index.collections["default"]
    both = default.find("code-review")
    assert [(a.name, a.type) for a in both] == [
        ("code-review", "skill"),
        ("code-review", "command"),
    ]
    assert [a.rel_path for a in default.find("code-review", "command")] == [
        "commands/code-review.md"
    ]
    assert default.find("code-review", "agent") == []
    assert default.find("nothing") == []
    skill = default.artifacts[("code-review", "skill")]
    command = default.artifacts[("code-review", "command")]
    assert skill.content_hash != command.content_hash
    assert (skill.description, command.description) == ("Review a diff", "Review staged")
    assert index.holding("code-review", "skill") == ["default", "team"]
    assert index.holding("code-review", "command") == ["default"]
    assert index.get("missing") is None


def test_groups_from_the_manifest(tmp_path: Path) -> None:
    index = load_collections(make_home(tmp_path))
    team = index.collections["team"]
    assert [(g.name, g.position, g.members) for g in team.groups] == [
        ("review", 0, ("skill:code-review", "command:deploy-check")),
        ("planning", 1, ("agent:planner",)),
    ]
    assert team.groups[0].description == "What every pull request goes through"
    assert team.artifacts[("code-review", "skill")].groups == ("review",)
    assert team.artifacts[("deploy-check", "command")].groups == ("review",)
    assert team.artifacts[("planner", "agent")].groups == ("planning",)
    assert index.collections["default"].groups == ()


def test_closest_names_first(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.copytree(home / "collections" / "team", home / "collections" / "teams")
    index = load_collections(home)
    assert index.closest("defualt")[0] == "default"
    assert index.closest("tema", limit=2) == ["team", "teams"]
    assert sorted(index.closest("zzz")) == ["default", "team", "teams"]
    assert index.closest("team", limit=1) == ["team"]


def test_missing_home_and_directories_without_manifest(tmp_path: Path) -> None:
    assert load_collections(tmp_path / "nowhere") == CollectionIndex(tmp_path / "nowhere", {}, ())
    home = make_home(tmp_path)
    (home / "collections" / "scratch").mkdir()  # no collection.toml: not a collection
    write(home / "collections" / "notes.toml", "x = 1\n")
    assert load_collections(home).names() == ["default", "team"]


def test_artifact_missing_on_disk_has_no_hash(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    shutil.rmtree(home / "collections" / "default" / "skills" / "code-review")
    index = load_collections(home)
    skill = index.collections["default"].artifacts[("code-review", "skill")]
    assert skill.content_hash is None
    assert skill.lock_hash is not None
    assert "skills/code-review is missing on disk" in messages(index)


# --- bad input -------------------------------------------------------------------------------------


def test_broken_manifest_is_reported_with_its_line_and_others_load(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    manifest = home / "collections" / "team" / "collection.toml"
    lines = manifest.read_text(encoding="utf-8").splitlines()
    lines[6] = 'name = "deploy-check'  # an unterminated string on line 7
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    index = load_collections(home)
    assert index.names() == ["default"]
    [problem] = index.problems
    assert problem.path == manifest.absolute()
    assert problem.line == 7
    assert problem.column is not None
    assert problem.message.startswith("invalid TOML: ")
    assert "(at line" not in problem.message
    assert str(problem).startswith(f"{manifest.absolute()}:7:")


def test_a_manifest_nested_too_deep_is_a_problem_with_its_place(tmp_path: Path) -> None:
    home = tmp_path / "home"
    manifest = write(
        home / "collections" / "deep" / "collection.toml",
        HEADER.format(name="deep") + "tags = " + "[" * 700 + "]" * 700 + "\n",
    )
    index = load_collections(home)
    assert index.names() == []
    [problem] = index.problems
    assert (problem.path, problem.line, problem.column) == (manifest, 6, 108)
    assert problem.message == "invalid TOML: Nested more than 100 levels deep"


def test_structural_problems_skip_the_collection_or_the_artifact(tmp_path: Path) -> None:
    home = tmp_path / "home"
    base = home / "collections"
    write(base / "no-header" / "collection.toml", artifact_toml("a", "skill", "skills/a"))
    write(base / "bad-array" / "collection.toml", "artifacts = 3\n" + HEADER.format(name="x"))
    write(base / "bad-utf8" / "collection.toml", b'[collection]\nname = "\xff"\n')
    write(base / "ok" / "commands" / "a.md", "# a\n")
    write(base / "ok" / "skills" / "s" / "SKILL.md", "# s\n")
    write(
        base / "ok" / "collection.toml",
        HEADER.format(name="other-name")
        + artifact_toml("a", "command", "commands/a.md")
        + artifact_toml("a", "command", "commands/a.md")  # the same (name, type) twice
        + artifact_toml(".hidden", "command", "commands/a.md")
        + artifact_toml("b", "skills", "skills/s")  # unknown type
        + '\n[[artifacts]]\nname = "c"\ntype = "skill"\n'  # no path
        + '\n[[artifacts]]\nname = "d"\ntype = "skill"\npath = 4\n'
        + '\n[[artifacts]]\nname = "s"\ntype = "skill"\npath = "skills/s/"\n',  # lacks origin
    )
    index = load_collections(home)
    assert index.names() == ["ok"]
    ok = index.collections["ok"]
    assert list(ok.artifacts) == [("a", "command"), ("s", "skill")]
    assert ok.artifacts[("s", "skill")].rel_path == "skills/s"
    text = messages(index)
    assert "missing [collection] table; collection skipped" in text
    assert "'artifacts' must be an array of tables" in text
    assert "not UTF-8" in text
    assert "name is 'other-name' but the directory is 'ok'" in text
    assert "listed twice" in text
    assert "unsafe artifact name '.hidden'" in text
    assert "unknown artifact type 'skills'" in text
    assert "missing required key 'path'" in text
    assert "'path' must be a non-empty string" in text
    assert "lacks 'origin', which SkillMeat requires" in text
    # Artifact problems point at their [[artifacts]] header.
    manifest = (base / "ok" / "collection.toml").absolute()
    header_lines = [
        number
        for number, line in enumerate(manifest.read_text().splitlines(), 1)
        if line == "[[artifacts]]"
    ]
    twice = next(p for p in index.problems if "listed twice" in p.message)
    assert (twice.path, twice.line) == (manifest, header_lines[1])
    assert all(isinstance(p, IndexProblem) for p in index.problems)


def test_escape_attempts_are_reported_and_skipped(tmp_path: Path) -> None:
    home = tmp_path / "home"
    root = home / "collections" / "default"
    outside = write(tmp_path / "outside" / "secret.md", "secret\n").parent
    write(root / "commands" / "ok.md", "# ok\n")
    (root / "skills").mkdir(parents=True)
    (root / "skills" / "linked").symlink_to(outside, target_is_directory=True)
    (root / "commands" / "linked.md").symlink_to(outside / "secret.md")
    write(root / "skills" / "inside" / "SKILL.md", "# inside\n")
    (root / "skills" / "alias").symlink_to(root / "skills" / "inside")  # stays inside: fine
    write(
        root / "collection.toml",
        HEADER.format(name="default")
        + artifact_toml("ok", "command", "commands/ok.md")
        + artifact_toml("up", "skill", "../../outside")
        + artifact_toml("sneaky", "skill", "skills/../../../outside")
        + artifact_toml("abs", "command", str(outside / "secret.md"))
        + artifact_toml("win", "command", "C:\\\\Users\\\\x\\\\secret.md")
        + artifact_toml("root", "skill", ".")
        + artifact_toml("linked", "skill", "skills/linked")
        + artifact_toml("linked", "command", "commands/linked.md")
        + artifact_toml("alias", "skill", "skills/alias"),
    )
    index = load_collections(home)
    default = index.collections["default"]
    assert sorted(default.artifacts) == [("alias", "skill"), ("ok", "command")]
    assert default.artifacts[("alias", "skill")].content_hash == content_hash(
        root / "skills" / "inside"
    )
    text = messages(index)
    assert "skill 'up': path '../../outside' leaves the collection" in text
    assert "skill 'sneaky': path 'skills/../../../outside' leaves the collection" in text
    assert "command 'abs': path" in text and "is absolute" in text
    assert "command 'win': path 'C:\\\\Users\\\\x\\\\secret.md' is absolute" in text
    assert "skill 'root': path '.' is the collection itself" in text
    assert "skill 'linked': path 'skills/linked' resolves to" in text
    assert "command 'linked': path 'commands/linked.md' resolves to" in text
    assert all(p.path == (root / "collection.toml").absolute() for p in index.problems)
    assert all(p.line is not None for p in index.problems)


def test_broken_lock_is_reported_and_the_collection_still_loads(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    lock = home / "collections" / "default" / "collection.lock"
    write(lock, '[lock]\nversion = "1.0.0"\n[lock.entries."a::skill"\n')
    index = load_collections(home)
    assert index.names() == ["default", "team"]
    [problem] = index.problems
    assert (problem.path, problem.line) == (lock.absolute(), 3)
    default = index.collections["default"]
    assert all(a.lock_hash is None and a.content_hash for a in default.artifacts.values())

    write(
        lock,
        '[lock]\nversion = "1.0.0"\n[lock.entries.plain]\ncontent_hash = "abc"\n'
        '[lock.entries."helper::agent"]\ncontent_hash = "nothex"\n',
    )
    text = messages(load_collections(home))
    assert "lock entry 'plain' is not 'name::type'" in text
    assert "lock entry 'helper::agent' has no valid content_hash" in text


def test_bad_groups_are_reported_and_the_rest_kept(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    manifest = home / "collections" / "team" / "collection.toml"
    text = manifest.read_text(encoding="utf-8")
    text += (
        '\n[[groups]]\nname = "review"\nmembers = []\n'  # a second "review"
        '\n[[groups]]\nname = ""\n'
        '\n[[groups]]\nname = "odd"\nposition = -2\nmembers = ["planner", "agent:planner", '
        '"agent:planner"]\n'
    )
    manifest.write_text(text, encoding="utf-8")
    index = load_collections(home)
    team = index.collections["team"]
    assert [(g.name, g.position, g.members) for g in team.groups] == [
        ("review", 0, ("skill:code-review", "command:deploy-check")),
        ("odd", 0, ("agent:planner",)),
        ("planning", 1, ("agent:planner",)),
    ]
    assert team.artifacts[("planner", "agent")].groups == ("odd", "planning")
    problems = messages(index)
    assert "group 'review' is defined twice" in problems
    assert "'name' must be a string of 1 to 255 characters" in problems
    assert "'position' must be an integer >= 0" in problems
    assert "member 'planner' is not 'type:name'" in problems


# --- the cache ---------------------------------------------------------------------------------------


def test_index_is_stored_in_the_cache(tmp_path: Path, cache: Cache) -> None:
    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    index = load_collections(home, cache)
    assert index == load_collections(home)  # the same answer with or without a cache

    collections = query(db, "SELECT name, id FROM collections")
    assert [name for name, _id in collections] == ["default", "team"]
    assert all(len(cid) == 32 and int(cid, 16) >= 0 for _name, cid in collections)
    ids = dict(collections)
    assert query(
        db, "SELECT root_path FROM collection_sources WHERE collection_id = ?", ids["team"]
    ) == [(str((home / "collections").resolve() / "team"),)]
    assert query(
        db, "SELECT artifact_id FROM collection_artifacts WHERE collection_id = ?", ids["default"]
    ) == [("agent:helper",), ("command:code-review",), ("skill:code-review",)]
    stored = query(
        db,
        "SELECT artifact_id, content_hash, lock_hash, rel_path FROM indexed_artifacts "
        "WHERE collection_id = ?",
        ids["team"],
    )
    team = index.collections["team"]
    assert stored == sorted(
        (a.artifact_id, a.content_hash, a.lock_hash, a.rel_path) for a in team.artifacts.values()
    )
    groups = query(db, "SELECT name, position, description, collection_id FROM groups")
    assert groups == [
        ("planning", 1, "Agents for breaking work down", ids["team"]),
        ("review", 0, "What every pull request goes through", ids["team"]),
    ]
    members = query(
        db,
        "SELECT g.name, ga.artifact_id, ga.position FROM group_artifacts ga "
        "JOIN groups g ON g.id = ga.group_id",
    )
    assert members == [
        ("planning", "agent:planner", 0),
        ("review", "command:deploy-check", 1),
        ("review", "skill:code-review", 0),
    ]
    sources = query(
        db, "SELECT manifest_size, lock_size, manifest_mtime_ns, error FROM collection_sources"
    )
    manifest = home / "collections" / "default" / "collection.toml"
    assert (manifest.stat().st_size, manifest.stat().st_mtime_ns) in {
        (size, mtime) for size, _lock, mtime, _error in sources
    }
    assert all(error is None for *_rest, error in sources)


def test_warm_reload_does_not_rehash_and_a_change_rehashes_only_that_artifact(
    tmp_path: Path, cache: Cache, hasher: CountingHasher
) -> None:
    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    first = load_collections(home, cache, hasher=hasher)
    assert len(hasher.calls) == 6
    ids_before = query(db, "SELECT name, id FROM collections")

    hasher.calls.clear()
    second = load_collections(home, cache, hasher=hasher)
    assert hasher.calls == []
    assert second == first

    # A reopened cache (a new server process) reuses the hashes too.
    reopened = initialize_cache(db)
    try:
        assert load_collections(home, reopened, hasher=hasher) == first
    finally:
        reopened.close()
    assert hasher.calls == []

    run = home / "collections" / "default" / "skills" / "code-review" / "scripts" / "run.py"
    run.write_text("print('changed')\n", encoding="utf-8")
    third = load_collections(home, cache, hasher=hasher)
    assert hasher.calls == [run.parents[1]]
    changed = third.collections["default"].artifacts[("code-review", "skill")]
    assert changed.content_hash == content_hash(run.parents[1])
    assert changed.content_hash != changed.lock_hash
    assert query(
        db,
        "SELECT content_hash FROM indexed_artifacts WHERE artifact_id = 'skill:code-review' "
        "AND collection_id = (SELECT id FROM collections WHERE name = 'default')",
    ) == [(changed.content_hash,)]
    assert query(db, "SELECT name, id FROM collections") == ids_before

    # Touching a file with the same bytes re-hashes it (stat data only), to the same hash.
    hasher.calls.clear()
    helper = home / "collections" / "default" / "agents" / "helper.md"
    stat = helper.stat()
    os.utime(helper, ns=(stat.st_atime_ns, stat.st_mtime_ns + 5_000_000))
    assert load_collections(home, cache, hasher=hasher) == third
    assert hasher.calls == [helper]


def test_manifest_edits_update_the_cache_without_rehashing(
    tmp_path: Path, cache: Cache, hasher: CountingHasher
) -> None:
    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    load_collections(home, cache, hasher=hasher)
    hasher.calls.clear()
    manifest = home / "collections" / "team" / "collection.toml"
    text = manifest.read_text(encoding="utf-8")
    # Drop the planner artifact and the "planning" group; move deploy-check out of "review".
    text = text.replace(artifact_toml("planner", "agent", "agents/planner.md"), "")
    text = text[: text.index("[[groups]]")] + (
        '[[groups]]\nname = "review"\nposition = 2\nmembers = ["skill:code-review"]\n'
    )
    manifest.write_text(text, encoding="utf-8")
    index = load_collections(home, cache, hasher=hasher)
    assert hasher.calls == []
    assert sorted(index.collections["team"].artifacts) == [
        ("code-review", "skill"),
        ("deploy-check", "command"),
    ]
    assert query(db, "SELECT name, position, description FROM groups") == [("review", 2, None)]
    assert query(db, "SELECT artifact_id, position FROM group_artifacts") == [
        ("skill:code-review", 0)
    ]
    team_id = query(db, "SELECT id FROM collections WHERE name = 'team'")[0][0]
    for table in ("collection_artifacts", "indexed_artifacts"):
        assert query(db, f"SELECT artifact_id FROM {table} WHERE collection_id = ?", team_id) == [
            ("command:deploy-check",),
            ("skill:code-review",),
        ]


def test_removed_collection_disappears_from_the_cache(tmp_path: Path, cache: Cache) -> None:
    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    load_collections(home, cache)
    team_id = query(db, "SELECT id FROM collections WHERE name = 'team'")[0][0]
    shutil.rmtree(home / "collections" / "team")
    index = load_collections(home, cache)
    assert index.names() == ["default"]
    assert query(db, "SELECT name FROM collections") == [("default",)]
    for table in ("collection_sources", "collection_artifacts", "indexed_artifacts", "groups"):
        assert query(db, f"SELECT count(*) FROM {table} WHERE collection_id = ?", team_id) == [(0,)]
    assert query(db, "SELECT count(*) FROM groups") == [(0,)]
    assert query(db, "SELECT count(*) FROM group_artifacts") == [(0,)]
    assert query(db, "SELECT count(*) FROM indexed_artifacts") == [(3,)]


def test_another_home_in_the_same_cache_is_left_alone(tmp_path: Path, cache: Cache) -> None:
    first = make_home(tmp_path / "one")
    second = tmp_path / "two" / "home"
    shutil.copytree(DATA_HOME, second)
    load_collections(first, cache)
    load_collections(second, cache)
    names = [name for (name,) in query(tmp_path / "c.db", "SELECT name FROM collections")]
    assert names == ["default", "default", "team"]


def test_broken_manifest_keeps_cached_hashes_until_it_is_fixed(
    tmp_path: Path, cache: Cache, hasher: CountingHasher
) -> None:
    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    good = load_collections(home, cache, hasher=hasher)
    hasher.calls.clear()
    manifest = home / "collections" / "team" / "collection.toml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text + "\n[[artifacts]\n", encoding="utf-8")
    broken = load_collections(home, cache, hasher=hasher)
    assert broken.names() == ["default"]
    assert len(broken.problems) == 1
    [(error,)] = query(
        db,
        "SELECT error FROM collection_sources WHERE collection_id = "
        "(SELECT id FROM collections WHERE name = 'team')",
    )
    assert "invalid TOML" in error
    manifest.write_text(text, encoding="utf-8")
    assert load_collections(home, cache, hasher=hasher) == good
    assert hasher.calls == []
    assert query(db, "SELECT error FROM collection_sources") == [(None,), (None,)]


def test_open_index_passes_the_hasher_on(tmp_path: Path, hasher: CountingHasher) -> None:
    home = make_home(tmp_path)
    cache, index = open_index(home, tmp_path / "c.db", hasher=hasher)
    assert cache is not None
    cache.close()
    assert len(hasher.calls) == 6
    assert index == load_collections(home)
    hasher.calls.clear()
    assert load_collections(home, hasher=hasher) == index  # no cache: every artifact is hashed
    assert sorted(hasher.calls) == sorted(
        artifact.path for c in index.collections.values() for artifact in c.artifacts.values()
    )


def test_unusable_cache_is_reported_and_the_index_still_loads(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    opened = initialize_cache(tmp_path / "c.db")
    with sqlite3.connect(tmp_path / "c.db") as conn:
        conn.execute("DROP TABLE indexed_artifacts")
    try:
        index = load_collections(home, opened)
    finally:
        opened.close()
    assert index.names() == ["default", "team"]
    assert [p.path for p in index.problems] == [tmp_path / "c.db"]
    assert "cannot read the cache" in index.problems[0].message


def test_concurrent_loads_on_one_cache_all_succeed(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    initialize_cache(db).close()
    caches = [initialize_cache(db) for _ in range(4)]
    results: list[CollectionIndex] = []
    errors: list[BaseException] = []

    def run(opened: Cache) -> None:
        try:
            results.append(load_collections(home, opened))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(opened,)) for opened in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for opened in caches:
        opened.close()
    assert errors == []
    assert len(results) == 4
    assert all(index.problems == () for index in results)
    assert all(index == results[0] for index in results)
    assert query(db, "SELECT name FROM collections") == [("default",), ("team",)]
    assert query(db, "SELECT count(*) FROM indexed_artifacts") == [(6,)]


# --- warm starts: each collection's reading restored from its snapshot ---------------------------


def stored_snapshot(db: Path, root: Path) -> str:
    from skillmeat_ls.index.manifest import _source_key

    [(content,)] = query(
        db, "SELECT content FROM collection_snapshots WHERE root_path = ?", _source_key(root)
    )
    return content


def test_a_warm_load_restores_each_reading_from_its_snapshot(tmp_path: Path, cache: Cache) -> None:
    from skillmeat_ls.index.manifest import _parse_collection

    home = make_home(tmp_path)
    first = load_collections(home, cache)
    for name in ("default", "team"):
        root = home / "collections" / name
        restored = _parse_collection(name, root, stored_snapshot(tmp_path / "c.db", root))
        fresh = _parse_collection(name, root)
        assert restored.restored and not fresh.restored
        assert (restored.ok, restored.entries, restored.groups, restored.mcp_servers) == (
            fresh.ok,
            fresh.entries,
            fresh.groups,
            fresh.mcp_servers,
        )
        assert restored.problems == fresh.problems
    assert load_collections(home, cache) == first


def test_a_snapshot_is_not_restored_once_anything_it_read_changed(
    tmp_path: Path, cache: Cache
) -> None:
    from skillmeat_ls.index.manifest import _parse_collection

    home = make_home(tmp_path)
    db = tmp_path / "c.db"
    load_collections(home, cache)
    team = home / "collections" / "team"
    snapshot = stored_snapshot(db, team)

    # Its own format, damaged text, another version's format: parsed again.
    assert _parse_collection("team", team, snapshot).restored
    for other in ("{not json", snapshot.replace('"format":"1/', '"format":"0/'), "[]"):
        assert not _parse_collection("team", team, other).restored

    # A symlink now leads out of the collection, the manifest untouched: the artifact is refused.
    outside = write(tmp_path / "elsewhere" / "planner.md", "# Planner, elsewhere\n")
    (team / "agents" / "planner.md").unlink()
    (team / "agents" / "planner.md").symlink_to(outside)
    assert not _parse_collection("team", team, snapshot).restored
    index = load_collections(home, cache)
    assert ("planner", "agent") not in index.collections["team"].artifacts
    assert any("outside the collection" in p.message for p in index.problems)

    # An edited manifest: its change is seen, and the next snapshot is its own.
    manifest = team / "collection.toml"
    manifest.write_text(manifest.read_text() + artifact_toml("extra", "agent", "agents/extra.md"))
    write(team / "agents" / "extra.md", "# Extra\n")
    assert ("extra", "agent") in load_collections(home, cache).collections["team"].artifacts
    assert _parse_collection("team", team, stored_snapshot(db, team)).restored


def test_a_damaged_snapshot_in_the_cache_costs_a_parse_not_a_wrong_index(
    tmp_path: Path, cache: Cache
) -> None:
    home = make_home(tmp_path)
    first = load_collections(home, cache)
    with sqlite3.connect(tmp_path / "c.db") as db:
        db.execute("UPDATE collection_snapshots SET content = '{\"format\": []}'")
    assert load_collections(home, cache) == first
    assert load_collections(home, cache) == first
