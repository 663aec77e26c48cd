#!/bin/sh
# The editor files, the man page, bash completion and `make install`
# (docs/editors.md):
#   - the catalogue's names in editors/vim/syntax/hpt.vim (between
#     " catalogue:begin and " catalogue:end) and the catalogue-* rules of
#     editors/textmate/hpt.tmLanguage.json are editors/gen_syntax.c's output,
#     and every keyword of grammar/lexer.l is in both files;
#     `sh tests/cli/editors.sh --update` rewrites the generated parts;
#   - `make install PREFIX=$tmp/prefix` with this build's hptc (never
#     rebuilding it: -o) installs every file; `man -l` renders the page,
#     which names every command of `hptc --help` and every flag of every
#     command's usage text;
#   - Neovim (and Vim when present) headless, with the installed files on its
#     runtimepath, gives examples/fashion_mlp.hpt filetype hpt and the
#     expected syntax groups; the TextMate grammar is valid JSON and, run by
#     tests/cli/textmate.py, scopes the same tokens;
#   - the installed completion completes commands, run's flags and their
#     values, .hpt files and project directories.
# PASS:/FAIL: lines; SKIP: when a tool is missing.
. "$(dirname "$0")/../lib.sh"
: "${BUILD:=build}"

# ---- the generated parts ----------------------------------------------------
if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -I. -o "$tmp/gen" editors/gen_syntax.c stdlib/catalogue.c stdlib/value.c \
        stdlib/shape_rules.c -lm 2> "$tmp/cc.err"; then
    fail "editors/gen_syntax.c builds"; cat "$tmp/cc.err"; exit 1
fi
"$tmp/gen" vim > "$tmp/vim.part" && "$tmp/gen" textmate > "$tmp/tm.part" || { fail "gen_syntax runs"; exit 1; }
# Vim: the lines between the markers; TextMate: the run of "catalogue-*" rules.
awk -v part="$tmp/vim.part" '
    $0 == "\" catalogue:begin" { print; while ((getline line < part) > 0) print line; skip = 1; next }
    $0 == "\" catalogue:end" { skip = 0 }
    !skip { print }' editors/vim/syntax/hpt.vim > "$tmp/hpt.vim"
awk -v part="$tmp/tm.part" '
    /^    "catalogue-/ { if (!done) while ((getline line < part) > 0) print line; done = 1; next }
    { print }' editors/textmate/hpt.tmLanguage.json > "$tmp/hpt.tmLanguage.json"
if [ "$1" = --update ]; then
    cp "$tmp/hpt.vim" editors/vim/syntax/hpt.vim && cp "$tmp/hpt.tmLanguage.json" editors/textmate/hpt.tmLanguage.json
    echo "editors/vim/syntax/hpt.vim, editors/textmate/hpt.tmLanguage.json: the catalogue's names regenerated"
    exit 0
fi
for f in vim/syntax/hpt.vim textmate/hpt.tmLanguage.json; do
    if cmp -s "$tmp/$(basename $f)" "editors/$f"; then
        pass "editors/$f holds the catalogue's names as editors/gen_syntax.c prints them"
    else
        fail "editors/$f is stale against stdlib/catalogue.h: run sh tests/cli/editors.sh --update"
        diff "editors/$f" "$tmp/$(basename $f)" | head -10
    fi
done
n_names=$(grep -c '^syn keyword hpt\(Layer\|Builtin\|Tuner\)' editors/vim/syntax/hpt.vim)
check "the Vim file holds the generated keyword rows ($n_names)" '[ "$n_names" -ge 3 ]'
keywords=$(grep '^"[A-Za-z]' grammar/lexer.l | grep -o '^"[^ {]*' | grep -o '[A-Za-z][A-Za-z]*' | sort -u)
missing=""
for w in $keywords; do
    grep -q "^syn keyword hpt[A-Za-z]* .*\<$w\>" editors/vim/syntax/hpt.vim || missing="$missing vim:$w"
    grep -q "[(|:]$w[|)]\|\\\\\\\\b$w\\\\\\\\b" editors/textmate/hpt.tmLanguage.json || missing="$missing textmate:$w"
done
check "every keyword and literal of grammar/lexer.l ($(echo $keywords | wc -w)) is highlighted in both files${missing:+ (missing:$missing)}" \
    '[ -z "$missing" ] && [ "$(echo $keywords | wc -w)" -ge 14 ]'

# ---- make install -------------------------------------------------------------
san=0; [ "$BUILD" = build-san ] && san=1
prefix="$tmp/prefix"
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -o "$BUILD/hptc" SAN=$san BUILD="$BUILD" PREFIX="$prefix" install \
        > "$tmp/install.log" 2>&1; then
    pass "make install PREFIX=... SAN=$san installs with $BUILD/hptc"
else
    fail "make install PREFIX=... SAN=$san"; tail -5 "$tmp/install.log"
fi
files="bin/hptc share/man/man1/hptc.1 share/bash-completion/completions/hptc
share/vim/vimfiles/syntax/hpt.vim share/vim/vimfiles/ftdetect/hpt.vim share/vim/vimfiles/ftplugin/hpt.vim
share/nvim/site/syntax/hpt.vim share/nvim/site/ftdetect/hpt.vim share/nvim/site/ftplugin/hpt.vim
share/hptc/editors/textmate/hpt.tmLanguage.json share/hptc/editors/textmate/package.json
share/hptc/editors/textmate/language-configuration.json"
absent=""
for f in $files; do [ -s "$prefix/$f" ] || absent="$absent $f"; done
check "make install puts the 12 files under PREFIX${absent:+ (absent:$absent)}" '[ -z "$absent" ]'
check "the installed hptc is $BUILD/hptc, not rebuilt" 'cmp -s "$prefix/bin/hptc" "$BUILD/hptc" && [ -x "$prefix/bin/hptc" ]'
extra=$(cd "$prefix" && find . -type f | sed 's|^\./||' | grep -vxF "$(printf '%s\n' $files)")
check "make install puts nothing else there${extra:+ (also: $extra)}" '[ -z "$extra" ]'
d=$(mktemp -d "$tmp/destdir.XXXX")
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -o "$BUILD/hptc" SAN=$san BUILD="$BUILD" PREFIX=/usr DESTDIR="$d" install > /dev/null 2>&1
check "DESTDIR=DIR stages the same files under DIR/PREFIX" \
    '[ "$(cd "$d/usr" && find . -type f | wc -l)" -eq 12 ] && [ -f "$d/usr/share/man/man1/hptc.1" ]'

# ---- the man page -------------------------------------------------------------
page="$prefix/share/man/man1/hptc.1"
if ! command -v man > /dev/null; then
    echo "SKIP: man is not installed (Debian man-db): the page is not rendered"
else
    MANWIDTH=100 LC_ALL=C.UTF-8 man --warnings -l "$page" > "$tmp/page.txt" 2> "$tmp/man.err"
    check "man -l renders hptc.1 without warnings ($(wc -l < "$tmp/page.txt") lines)" \
        '[ "$(wc -l < "$tmp/page.txt")" -gt 50 ] && [ ! -s "$tmp/man.err" ] && grep -q "^NAME" "$tmp/page.txt"'
    commands=$("$HPTC" --help | sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
    missing=""
    for c in $commands; do grep -q "^   $c\$" "$tmp/page.txt" || missing="$missing $c"; done
    check "the page has a section for every command of hptc --help ($(echo $commands | wc -w))${missing:+ (missing:$missing)}" \
        '[ -z "$missing" ] && [ "$(echo $commands | wc -w)" -ge 12 ]'
    missing="" n_flags=0
    for c in $commands; do "$HPTC" "$c" --help > "$tmp/usage.$c" & done
    wait
    for c in $commands; do
        for flag in $(grep -oE '(^|[][ |(])--?[a-z][a-z0-9-]*' "$tmp/usage.$c" | sed 's/^[][ |(]//' | sort -u); do
            n_flags=$((n_flags + 1))
            grep -qF -- "$flag" "$tmp/page.txt" || missing="$missing $c:$flag"
        done
    done
    check "the page names every flag of every command's usage text ($n_flags)${missing:+ (missing:$missing)}" \
        '[ -z "$missing" ] && [ "$n_flags" -ge 25 ]'
    check "the page's run section gives run's synopsis" \
        'grep -qF -- "hptc run FILE.hpt [--jobs N]" "$tmp/page.txt"'
fi

# ---- Vim and Neovim -----------------------------------------------------------
# Each check: a pattern whose first match is the token, and the group expected there.
cat > "$tmp/syntax.vim" <<'EOF'
let s:checks = [
      \ ['^#', 'hptComment'], ['\<data\>', 'hptSetting'], ['datasets\.', 'hptData'],
      \ ['\<scale\>', 'hptKwarg'], ['1/\zs255', 'hptNumber'], ['\<model\>', 'hptKeyword'],
      \ ['\<Input\>', 'hptLayer'], ['\<Dense\>', 'hptLayer'], ['hp\.Int', 'hptHp'],
      \ ['"units"', 'hptString'], ['\<min_value\>', 'hptKwarg'], ['"relu"', 'hptStringName'],
      \ ['0\.2', 'hptFloat'], ['\<Adam\>', 'hptBuiltin'], ['1e-2', 'hptFloat'],
      \ ['^ *\zsloss', 'hptKwarg'], ['"sparse_categorical', 'hptStringName'], ['\<tuner\>', 'hptSetting'],
      \ ['\<Hyperband\>', 'hptTuner'], ['\<search\>', 'hptSetting'], ['\<EarlyStopping\>', 'hptBuiltin'],
      \ ['"val_loss"', 'hptString']]
let s:out = ['filetype ' . &filetype]
for [s:pat, s:want] in s:checks
  call cursor(1, 1)
  let [s:l, s:c] = searchpos(s:pat, 'cW')
  let s:got = s:l ? synIDattr(synID(s:l, s:c, 1), 'name') : '(no match)'
  call add(s:out, (s:got ==# s:want ? 'ok ' : 'bad ') . s:pat . ' ' . s:want . ' ' . s:got)
endfor
call writefile(s:out, $SYNTAX_OUT)
qall!
EOF
syntax_check() {   # syntax_check EDITOR RUNTIMEDIR: its ok/bad lines in $tmp/EDITOR.out
    SYNTAX_OUT="$tmp/$1.out" timeout 20 "$1" --headless -u NONE -i NONE -n --cmd "set rtp^=$2" \
        -c 'filetype on' -c 'syntax on' -c "edit examples/fashion_mlp.hpt" -c "source $tmp/syntax.vim" \
        > /dev/null 2>&1 < /dev/null
}
for editor in nvim vim; do
    if ! command -v $editor > /dev/null; then
        echo "SKIP: $editor is not installed (Debian $([ $editor = nvim ] && echo neovim || echo vim)): no $editor syntax test"
        continue
    fi
    rtp="$prefix/share/nvim/site"
    if [ $editor = vim ]; then
        rtp="$prefix/share/vim/vimfiles"
        # Vim has no --headless: Ex mode, silent, on no terminal.
        syntax_check() {
            SYNTAX_OUT="$tmp/$1.out" timeout 20 "$1" -N -u NONE -i NONE -n -es --cmd "set rtp^=$2" \
                -c 'filetype on' -c 'syntax on' -c "edit examples/fashion_mlp.hpt" -c "source $tmp/syntax.vim" \
                > /dev/null 2>&1 < /dev/null
        }
    fi
    syntax_check $editor "$rtp"
    if [ ! -s "$tmp/$editor.out" ]; then
        fail "$editor --headless ran the syntax checks"; continue
    fi
    check "$editor: the installed ftdetect makes examples/fashion_mlp.hpt filetype hpt" \
        'grep -qx "filetype hpt" "$tmp/$editor.out"'
    n_ok=$(grep -c '^ok ' "$tmp/$editor.out")
    check "$editor: keywords, layers, optimizers, tuners, hp.*, argument names, strings, names in strings, numbers and the comment get their groups ($n_ok of 22)" \
        '[ "$n_ok" -eq 22 ]'
    grep '^bad ' "$tmp/$editor.out" | sed 's/^/  /'
done

# ---- the TextMate grammar -----------------------------------------------------
if ! command -v python3 > /dev/null; then
    echo "SKIP: python3 is missing: the TextMate grammar is not checked"
else
    tm="$prefix/share/hptc/editors/textmate"
    python3 tests/cli/textmate.py "$tm/hpt.tmLanguage.json" "$tm/package.json" "$tm/language-configuration.json" \
        examples/fashion_mlp.hpt \
        '#=comment.line.number-sign.hpt' 'data =keyword.other.setting.hpt' 'datasets.=support.function.data.hpt' \
        'scale =variable.parameter.hpt' '255=constant.numeric.integer.hpt' 'model=keyword.other.model.hpt' \
        'Input=support.class.layer.hpt' 'Dense=support.class.layer.hpt' 'hp.Int=support.function.hp.hpt' \
        '"units"=string.quoted.double.hpt' 'min_value=variable.parameter.hpt' '"relu"=support.constant.name.hpt' \
        '0.2=constant.numeric.float.hpt' 'Adam=support.class.builtin.hpt' '1e-2=constant.numeric.float.hpt' \
        'loss =variable.parameter.hpt' '"sparse_categorical=support.constant.name.hpt' 'tuner =keyword.other.setting.hpt' \
        'Hyperband=support.class.tuner.hpt' 'search(=keyword.other.setting.hpt' 'EarlyStopping=support.class.builtin.hpt' \
        '"val_loss"=string.quoted.double.hpt' \
        examples/nas.hpt \
        'for=keyword.control.loop.hpt' 'f"units_=string.interpolated.hpt' '{i}=meta.interpolation.hpt' \
        'in range=keyword.control.loop.hpt' 'range=support.function.builtin.hpt' > "$tmp/tm.out" 2>&1
    check "hpt.tmLanguage.json, package.json and language-configuration.json are valid JSON" \
        '[ "$(grep -c "^ok .* is JSON\$" "$tmp/tm.out")" -eq 3 ]'
    check "the TextMate grammar scopes the same 22 tokens of examples/fashion_mlp.hpt, and for, f-strings, their {name} and range in examples/nas.hpt ($(tail -1 "$tmp/tm.out"))" \
        'tail -1 "$tmp/tm.out" | grep -qx "27 checked, 0 bad"'
    grep '^bad\|Error' "$tmp/tm.out" | sed 's/^/  /'
fi

# ---- bash completion ----------------------------------------------------------
# One shell for every query, as at a prompt: each help text is asked for once.
completion="$prefix/share/bash-completion/completions/hptc"
mkdir -p "$tmp/cwd/project/p" && : > "$tmp/cwd/spec.hpt" && : > "$tmp/cwd/notes.txt"
cat > "$tmp/complete.bash" <<'EOF'
. "$1"
q() {   # q NAME WORD...: "NAME: what completing the last word offers, sorted"
    local name=$1; shift
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
    _hptc
    echo "$name: $(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//')"
}
q command hptc ru
q commands hptc ""
q flags hptc run spec.hpt --
q backend hptc run spec.hpt --backend ""
q spec hptc check ""
q dir hptc summary ""
q file hptc train spec.hpt --save ""
EOF
if ! command -v bash > /dev/null; then
    echo "SKIP: bash is missing: completion is not tested"
else
    (cd "$tmp/cwd" && PATH="$prefix/bin:$PATH" bash --norc "$tmp/complete.bash" "$completion") > "$tmp/complete.out" 2>&1
    got() { sed -n "s/^$1: //p" "$tmp/complete.out"; }
    check "hptc ru<TAB> completes run ($(got command))" '[ "$(got command)" = run ]'
    want=$("$HPTC" --help | sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z0-9-]*\) .*/\1/p')
    want=$(printf '%s\n' $want --help --version | sort | tr '\n' ' ' | sed 's/ $//')
    check "hptc <TAB> offers every command of hptc --help, and --help and --version" '[ "$(got commands)" = "$want" ]'
    check "hptc run --<TAB> offers run's flags ($(got flags))" \
        '(for f in --jobs --overwrite --warm-start --limit --backend --dtype-policy; do case " $(got flags) " in *" $f "*) ;; *) exit 1 ;; esac; done)'
    check "hptc run --backend <TAB> offers blas and jit ($(got backend))" '[ "$(got backend)" = "blas jit" ]'
    check "hptc check <TAB> offers .hpt files and directories, not other files ($(got spec))" '[ "$(got spec)" = "project spec.hpt" ]'
    check "hptc summary <TAB> offers directories only ($(got dir))" '[ "$(got dir)" = project ]'
    check "hptc train --save <TAB> offers any file ($(got file))" '[ "$(got file)" = "notes.txt project spec.hpt" ]'
fi
