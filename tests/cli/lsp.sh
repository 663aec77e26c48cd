#!/bin/sh
# tests/cli/lsp.sh: `hptc lsp`, the language server, driven by a scripted
# JSON-RPC client (tests/cli/lsp_session.py: every request it answers, and
# bad JSON, an unknown method, a 100 MB Content-Length, input ending
# mid-message) and by a real client, Neovim headless.
. "$(dirname "$0")/../lib.sh"

if command -v python3 >/dev/null; then
    python3 tests/cli/lsp_session.py "$HPTC" examples/fashion_mlp.hpt "$tmp"
else
    echo "SKIP: python3 is missing: the scripted JSON-RPC session needs it"
fi
