"""SkillMeat's content hash, byte for byte (reference §4 vectors, symlinks, a property test)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillmeat_ls.hashing import EMPTY_HASH, LeavesRoot, content_hash, tree_fingerprint

SHARED_SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "samples"
SHARED_HOME = SHARED_SAMPLES / "generated-bf0f68e3" / "home" / ".skillmeat"
SHARED_DEFAULT = SHARED_HOME / "collections" / "default"
LOCAL_DEFAULT = Path(__file__).parent / "data" / "skillmeat-home" / "collections" / "default"

V2 = "56632429a8190db2d2b1915ec698a50a22d0aee82569a142fa1b22c932b16822"
V3 = "f59ef5723aec5fc1159f3260087bcca28696b17a49d978a11f453c6cbd4c86d5"
V3_STRING_SORT = "e0951246d9e55b14746703571d56d81cc064c220e3cff50ada5d0a05901e2ab9"
V4 = "4cfdf82d29f3d4d04c951ea3c0f27f9e40a829ba94c2f465b5548ac453d46360"
SAMPLE_VECTORS = [
    ("skills/my-skill", "18d75f739ce2d5d309a18e8f9159daa0382ff24f9967e681cc21e5b365a529de"),  # V6
    ("commands/review.md", "53b2b2020e0118f37afaa56af3b3acba5d07ce9118be2dc5b1d2f4cc95b348b5"),
    ("agents/helper.md", "81948d8bddd95ef4ca7daf92590ace809467bd98a78c1a0ac4252cfb9fab1d69"),  # V8
]


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return root


def skillmeat_reference_hash(path: Path) -> str:
    """SkillMeat's algorithm as written: ``sorted(rglob("*"))``, relative path then bytes."""
    hasher = hashlib.sha256()
    if path.is_file():
        hasher.update(path.read_bytes())
        return hasher.hexdigest()
    for file_path in sorted(path.rglob("*")):
        if file_path.is_file():
            hasher.update(str(file_path.relative_to(path)).encode("utf-8"))
            hasher.update(file_path.read_bytes())
    return hasher.hexdigest()


def string_sorted_hash(path: Path) -> str:
    """The tempting wrong implementation: sort the joined relative path strings."""
    files = sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())
    hasher = hashlib.sha256()
    for rel in files:
        hasher.update(rel.encode("utf-8"))
        hasher.update((path / rel).read_bytes())
    return hasher.hexdigest()


# --- reference §4 vectors ------------------------------------------------------------------------


def test_v1_file_is_its_raw_bytes(tmp_path: Path) -> None:
    review = tmp_path / "review.md"
    review.write_bytes(b"# Review\n")
    assert content_hash(review) == (
        "60390e262951c11c87fb37a0bba58ec02f73889fe444964faf0037e3adce528a"
    )


def test_v1b_line_endings_are_not_normalised(tmp_path: Path) -> None:
    review = tmp_path / "review.md"
    review.write_bytes(b"# Review\r\n")
    assert content_hash(review) == (
        "f2cfab367422929a2587177425c26c53299951821a840d5d7e8870246ea4a281"
    )


def test_v2_directory_feeds_relative_path_then_bytes(tmp_path: Path) -> None:
    skill = make_tree(
        tmp_path / "my-skill",
        {
            "SKILL.md": b"---\nname: my-skill\n---\n# My Skill\n",
            "scripts/run.py": b"print('hi')\n",
        },
    )
    assert content_hash(skill) == V2


def test_v3_order_is_by_path_components_not_by_string(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", {"a-b.md": b"1", "a/x.md": b"2"})
    assert content_hash(tree) == V3
    # "a-b.md" < "a/x.md" as strings ('-' < '/'), but ("a", "x.md") < ("a-b.md",) as components.
    assert string_sorted_hash(tree) == V3_STRING_SORT
    assert content_hash(tree) != V3_STRING_SORT


def test_v4_hidden_files_count_and_order_is_case_sensitive(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", {".hidden": b"h", "B.md": b"B", "_x": b"x", "b.md": b"b"})
    assert content_hash(tree) == V4


def test_v5_empty_directories_hash_to_nothing(tmp_path: Path) -> None:
    tree = tmp_path / "t"
    (tree / "empty" / "deeper").mkdir(parents=True)
    (tree / "other").mkdir()
    assert content_hash(tree) == EMPTY_HASH == hashlib.sha256(b"").hexdigest()
    assert content_hash(tree / "empty") == EMPTY_HASH


def test_empty_file_is_the_empty_hash(tmp_path: Path) -> None:
    empty = tmp_path / "empty.md"
    empty.write_bytes(b"")
    assert content_hash(empty) == EMPTY_HASH


@pytest.mark.parametrize(("rel", "expected"), SAMPLE_VECTORS)
def test_v6_to_v8_real_files_written_by_skillmeat(rel: str, expected: str) -> None:
    if not SHARED_DEFAULT.is_dir():
        pytest.skip(f"the shared reference samples are not here: {SHARED_DEFAULT}")
    assert content_hash(SHARED_DEFAULT / rel) == expected


@pytest.mark.parametrize(("rel", "expected"), SAMPLE_VECTORS)
def test_v6_to_v8_on_the_bundled_copy(rel: str, expected: str) -> None:
    assert content_hash(LOCAL_DEFAULT / rel) == expected


def test_large_file_spanning_many_chunks(tmp_path: Path) -> None:
    data = os.urandom(300_000)
    big = tmp_path / "big.bin"
    big.write_bytes(data)
    assert content_hash(big) == hashlib.sha256(data).hexdigest()


# --- rglob semantics -----------------------------------------------------------------------------


def test_symlinked_directory_is_not_descended(tmp_path: Path) -> None:
    outside = make_tree(tmp_path / "outside", {"secret.md": b"s"})
    tree = make_tree(tmp_path / "t", {"SKILL.md": b"x"})
    plain = content_hash(tree)
    (tree / "linked").symlink_to(outside, target_is_directory=True)
    assert content_hash(tree) == plain == skillmeat_reference_hash(tree)


def test_symlinked_file_is_hashed_with_its_target_bytes(tmp_path: Path) -> None:
    target = tmp_path / "target.md"
    target.write_bytes(b"target bytes\n")
    linked = make_tree(tmp_path / "linked", {"SKILL.md": b"x"})
    (linked / "notes.md").symlink_to(target)
    real = make_tree(tmp_path / "real", {"SKILL.md": b"x", "notes.md": b"target bytes\n"})
    assert content_hash(linked) == content_hash(real) == skillmeat_reference_hash(linked)
    # A symlink given directly is followed too.
    assert content_hash(linked / "notes.md") == content_hash(target)


def test_broken_link_and_fifo_are_skipped(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", {"SKILL.md": b"x", "sub/a.md": b"a"})
    plain = content_hash(tree)
    (tree / "dangling.md").symlink_to(tmp_path / "does-not-exist")
    (tree / "sub" / "dangling").symlink_to("nowhere")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tree / "pipe")
    assert content_hash(tree) == plain == skillmeat_reference_hash(tree)


def test_missing_path_and_special_file_raise(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        content_hash(tmp_path / "missing")
    (tmp_path / "dangling").symlink_to(tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        content_hash(tmp_path / "dangling")
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "pipe")
        with pytest.raises(ValueError, match="neither file nor directory"):
            content_hash(tmp_path / "pipe")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read any file"
)
def test_unreadable_file_raises(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", {"SKILL.md": b"x", "private.md": b"p"})
    (tree / "private.md").chmod(0)
    try:
        with pytest.raises(PermissionError):
            content_hash(tree)
    finally:
        (tree / "private.md").chmod(0o644)


def test_non_ascii_names_are_hashed_as_utf8(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", {"café/ünï.md": b"x", "Design Principles.md": b"y"})
    assert content_hash(tree) == skillmeat_reference_hash(tree)


# --- the fingerprint -----------------------------------------------------------------------------


def test_fingerprint_is_stable_and_sees_every_change(tmp_path: Path) -> None:
    tree = make_tree(tmp_path / "t", {"SKILL.md": b"x", "scripts/run.py": b"print()\n"})
    first = tree_fingerprint(tree)
    assert tree_fingerprint(tree) == first

    run = tree / "scripts" / "run.py"
    run.write_bytes(b"print(1)\n")  # size changes
    second = tree_fingerprint(tree)
    assert second != first

    stat = run.stat()
    os.utime(run, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # only mtime changes
    third = tree_fingerprint(tree)
    assert third != second

    (tree / "scripts" / "new.py").write_bytes(b"")
    assert tree_fingerprint(tree) != third

    # Any entry added to a folder changes it, even one the hash skips or refuses within a
    # profile root (an empty folder, a symlink to a folder, a FIFO): a stored hash of a copy is
    # reused only while nothing in it could change its verdict.
    for add in (
        lambda: (tree / "empty").mkdir(),
        lambda: (tree / "scripts" / "linked").symlink_to(tmp_path),
        lambda: os.mkfifo(tree / "pipe"),
    ):
        before = tree_fingerprint(tree)
        add()
        assert tree_fingerprint(tree) != before
    assert tree_fingerprint(tree) == tree_fingerprint(tree)


def test_fingerprint_of_a_file_and_of_a_missing_path(tmp_path: Path) -> None:
    single = tmp_path / "review.md"
    single.write_bytes(b"# Review\n")
    first = tree_fingerprint(single)
    assert first.startswith("f:")
    assert tree_fingerprint(tmp_path).startswith("d:")
    single.write_bytes(b"# Review!\n")
    assert tree_fingerprint(single) != first
    with pytest.raises(FileNotFoundError):
        tree_fingerprint(tmp_path / "missing")


# --- property: the fast walk equals SkillMeat's sorted(rglob) ------------------------------------

NAME_ALPHABET = "abAB-._xZ09"
names = st.text(NAME_ALPHABET, min_size=1, max_size=6).filter(lambda n: n not in (".", ".."))


def unique_case_insensitively(tree: dict[str, object]) -> bool:
    # Keeps the generated trees valid on case-insensitive file systems too.
    return len({name.lower() for name in tree}) == len(tree)


trees = st.recursive(
    st.binary(max_size=24),
    lambda children: st.dictionaries(names, children, max_size=4).filter(unique_case_insensitively),
    max_leaves=12,
)
roots = st.dictionaries(names, trees, max_size=5).filter(unique_case_insensitively)


def write_tree(root: Path, tree: dict[str, object]) -> None:
    root.mkdir(parents=True, exist_ok=True)
    for name, node in tree.items():
        if isinstance(node, bytes):
            (root / name).write_bytes(node)
        else:
            assert isinstance(node, dict)
            write_tree(root / name, node)


@settings(max_examples=150, deadline=None)
@given(roots)
def test_content_hash_equals_skillmeat_sorted_rglob(tree: dict[str, object]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "artifact"
        write_tree(root, tree)
        assert content_hash(root) == skillmeat_reference_hash(root)


def test_confined_hash_refuses_what_leads_out_and_equals_skillmeat_inside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    tree = root / "skill"
    tree.mkdir(parents=True)
    (tree / "a.md").write_text("a\n")
    (root / "shared.md").write_text("shared\n")
    (tree / "inside.md").symlink_to(root / "shared.md")
    within = os.path.realpath(root)
    assert content_hash(tree, within=within) == content_hash(tree)
    (tmp_path / "outside.md").write_text("outside\n")
    (tree / "out.md").symlink_to(tmp_path / "outside.md")
    with pytest.raises(LeavesRoot) as raised:
        content_hash(tree, within=within)
    assert raised.value.rel == "out.md" and "outside the profile root" in raised.value.reason
    (tree / "out.md").unlink()
    (tree / "gone.md").symlink_to(tmp_path / "nowhere")  # broken, pointing out
    with pytest.raises(LeavesRoot):
        content_hash(tree, within=within)
