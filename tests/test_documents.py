"""The server's open documents apply incremental changes exactly as pygls's ``TextDocument`` does:
random texts (line endings of every kind, characters outside the BMP) and random series of edits
(ranges past the end, reversed, in UTF-16, UTF-8 or UTF-32 units), each applied by both; an edit
after one that moved the line starts instead of finding them again checks that moving them was
right."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from lsprotocol import types as t
from pygls.workspace import PositionCodec, TextDocument

from skillmeat_ls.lsp.documents import IndexedTextDocument, IndexedWorkspace, index_changes

ALPHABET = st.sampled_from(["a", "b", "=", '"', " ", "\n", "\r", "\r\n", "é", "😋", "\u2028", "\x0c"])
TEXT = st.lists(ALPHABET, max_size=60).map("".join)
POSITION = st.builds(t.Position, line=st.integers(0, 12), character=st.integers(0, 12))
ENCODINGS = st.sampled_from(
    [t.PositionEncodingKind.Utf16, t.PositionEncodingKind.Utf8, t.PositionEncodingKind.Utf32]
)
INCREMENTAL = t.TextDocumentSyncKind.Incremental


def both(text: str, encoding: t.PositionEncodingKind) -> tuple[TextDocument, TextDocument]:
    def made(kind: type[TextDocument]) -> TextDocument:
        return kind("file:///x.toml", text, version=1, sync_kind=INCREMENTAL,
                    position_codec=PositionCodec(encoding))

    return made(TextDocument), made(IndexedTextDocument)


@settings(max_examples=2000, deadline=None)
@given(TEXT, st.lists(st.tuples(POSITION, POSITION, TEXT), min_size=1, max_size=6), ENCODINGS)
def test_an_incremental_change_gives_the_text_pygls_gives(
    text: str, edits: list[tuple[t.Position, t.Position, str]], encoding: t.PositionEncodingKind
) -> None:
    plain, indexed = both(text, encoding)
    for start, end, new in edits:
        for document in (plain, indexed):  # each gets its own range: the codec may adjust it
            span = t.Range(t.Position(start.line, start.character),
                           t.Position(end.line, end.character))
            document.apply_change(t.TextDocumentContentChangePartial(range=span, text=new))
        assert indexed.source == plain.source


def test_a_full_change_replaces_the_text() -> None:
    _, indexed = both("deployed = []\n", t.PositionEncodingKind.Utf16)
    indexed.apply_change(t.TextDocumentContentChangeWholeDocument(text="x = 1\n"))
    assert indexed.source == "x = 1\n"


def test_the_workspace_opens_indexed_documents() -> None:
    from pygls.workspace import Workspace

    workspace = Workspace("file:///w", INCREMENTAL)
    index_changes(workspace)
    assert isinstance(workspace, IndexedWorkspace)
    workspace.put_text_document(t.TextDocumentItem("file:///w/a.toml", "toml", 1, "a = 1\n"))
    document = workspace.get_text_document("file:///w/a.toml")
    assert isinstance(document, IndexedTextDocument) and document.source == "a = 1\n"
