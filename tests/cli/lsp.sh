#!/bin/sh
# tests/cli/lsp.sh: `hptc lsp`, the language server, driven by a scripted
# JSON-RPC client (tests/cli/lsp_session.py: every request it answers, and
# bad JSON, an unknown method, a 100 MB Content-Length, input ending
# mid-message) and by a real client, Neovim headless.
. "$(dirname "$0")/../lib.sh"
case $HPTC in /*) ;; *) HPTC=$PWD/$HPTC ;; esac    # Neovim starts the server from its own directory

if command -v python3 >/dev/null; then
    python3 tests/cli/lsp_session.py "$HPTC" examples/fashion_mlp.hpt "$tmp"
else
    echo "SKIP: python3 is missing: the scripted JSON-RPC session needs it"
fi

# A real client: Neovim headless attaches the server to a buffer holding a
# spec with an error, then asks for completion and hover as an editor does.
if ! command -v nvim >/dev/null; then
    echo "SKIP: nvim is missing (Debian neovim, in .ci/deps.sh's TEST): the real-client test needs it"
    exit 0
fi
sed 's/  Dropout(0.2)/  Dropot(0.2)/' examples/fashion_mlp.hpt > "$tmp/broken.hpt"
cat > "$tmp/client.lua" <<'LUA'
local out = assert(io.open(os.getenv("LSP_OUT"), "w"))
local function say(...) out:write(table.concat({ ... }, " "), "\n") end
local client = vim.lsp.start_client({ name = "hptc", cmd = { os.getenv("HPTC"), "lsp" }, root_dir = os.getenv("LSP_DIR") })
vim.cmd("edit " .. os.getenv("LSP_SPEC"))
local buf = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(buf, client)
vim.wait(10000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
for _, d in ipairs(vim.diagnostic.get(buf)) do
  say("diag", d.lnum, d.col, d.end_lnum, d.end_col, d.severity, (d.message:gsub("\n.*", "")))
end
local c = vim.lsp.get_client_by_id(client)
say("encoding", c.offset_encoding, c.server_capabilities.positionEncoding)
-- Type "Den" on a new line after Flatten() and ask what may follow.
local lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
local row
for k, l in ipairs(lines) do if l:match("Flatten") then row = k end end
vim.api.nvim_buf_set_lines(buf, row, row, false, { "  Den" })
local uri = vim.uri_from_bufnr(buf)
local got = vim.lsp.buf_request_sync(buf, "textDocument/completion",
  { textDocument = { uri = uri }, position = { line = row, character = 5 } }, 10000) or {}
for _, r in pairs(got) do
  local items = r.result and (r.result.items or r.result) or {}
  local names = {}
  for _, i in ipairs(items) do names[#names + 1] = i.label end
  say("completion", table.concat(names, ","))
end
lines = vim.api.nvim_buf_get_lines(buf, 0, -1, false)
for k, l in ipairs(lines) do
  local c = l:find("Adam%(")
  if c then
    got = vim.lsp.buf_request_sync(buf, "textDocument/hover",
      { textDocument = { uri = uri }, position = { line = k - 1, character = c } }, 10000) or {}
    for _, r in pairs(got) do
      say("hover", ((r.result and r.result.contents.value or ""):gsub("\n", " ")))
    end
  end
end
out:close()
vim.lsp.stop_client(client)
vim.wait(2000, function() return vim.lsp.client_is_stopped(client) end, 20)
vim.cmd("qa!")
LUA
LSP_OUT="$tmp/nvim.out" LSP_DIR="$tmp" LSP_SPEC="$tmp/broken.hpt" HPTC="$HPTC" \
    timeout 60 nvim --headless --clean -c "luafile $tmp/client.lua" > "$tmp/nvim.log" 2>&1
st=$?
check "Neovim ran the client script (status $st)" '[ $st = 0 ] && [ -s "$tmp/nvim.out" ]'
diag=$(grep '^diag ' "$tmp/nvim.out" | head -1)
check "Neovim receives the diagnostic at Dropot's range, line 8 columns 2-8 ($diag)" \
    '[ "$diag" = "diag 7 2 7 8 1 unknown layer '"'"'Dropot'"'"'" ]'
enc=$(grep '^encoding' "$tmp/nvim.out")
check "Neovim and the server count columns alike ($enc: Neovim 0.7 offers no utf-8)" \
    '[ "$enc" = "encoding utf-16 utf-16" ] || [ "$enc" = "encoding utf-8 utf-8" ]'
check "Neovim's completion after Den offers Dense ($(grep '^completion' "$tmp/nvim.out" | cut -c1-60))" \
    'grep "^completion " "$tmp/nvim.out" | tr " ," "\n\n" | grep -qx Dense'
check "Neovim's hover on Adam shows its defaults" \
    'grep "^hover " "$tmp/nvim.out" | grep -q "\`learning_rate\` = \`0.001\`.*\`beta_1\` = \`0.9\`"'
