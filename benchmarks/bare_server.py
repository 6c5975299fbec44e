"""The framework floor for ``lsp_latency.py``: a pygls server that only parses with tomllib.

It publishes one diagnostic per TOML syntax error and nothing else, so what it costs is what
pygls, lsprotocol and a whole-file parse cost.
"""

from __future__ import annotations

import tomllib
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer

server = LanguageServer("bare-toml", "1", text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)


def _check(ls: LanguageServer, uri: str) -> None:
    document = ls.workspace.get_text_document(uri)
    diagnostics = []
    try:
        tomllib.loads(document.source)
    except tomllib.TOMLDecodeError as exc:
        origin = lsp.Position(0, 0)
        diagnostics.append(lsp.Diagnostic(lsp.Range(origin, origin), str(exc)))
    ls.text_document_publish_diagnostics(
        lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=document.version)
    )


@server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: lsp.DidOpenTextDocumentParams) -> None:
    _check(ls, params.text_document.uri)


@server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: lsp.DidChangeTextDocumentParams) -> None:
    _check(ls, params.text_document.uri)


if __name__ == "__main__":
    server.start_io()
