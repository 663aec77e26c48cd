#!/bin/sh
# docs/language.md's stdlib reference and its table of hp.* calls are
# generated from the catalogue by bench/gen_stdlib_doc.c: rebuild the
# generator and check the document holds its output between
# <!-- stdlib:begin --> and <!-- stdlib:end --> (the reference) and between
# <!-- hp:begin --> and <!-- hp:end --> (`gen_stdlib_doc hp`: the hp.* table).
# `sh tests/cli/docs.sh --update` rewrites both sections.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -I. -o "$tmp/gen" bench/gen_stdlib_doc.c stdlib/catalogue.c stdlib/value.c \
        stdlib/shape_rules.c -lm 2> "$tmp/cc.err"; then
    fail "bench/gen_stdlib_doc.c builds"; cat "$tmp/cc.err"; exit 1
fi
"$tmp/gen" > "$tmp/section.md" || { fail "gen_stdlib_doc runs"; exit 1; }
"$tmp/gen" hp > "$tmp/hp.md" || { fail "gen_stdlib_doc hp runs"; exit 1; }
# The document with each section replaced by the generator's output.
replace() {     # MARKER FILE: stdin with the lines between the markers replaced by FILE
    awk -v marker="$1" -v section="$2" '
        $0 == "<!-- " marker ":begin -->" { print; while ((getline line < section) > 0) print line; skip = 1; next }
        $0 == "<!-- " marker ":end -->" { skip = 0 }
        !skip { print }'
}
replace stdlib "$tmp/section.md" < docs/language.md | replace hp "$tmp/hp.md" > "$tmp/language.md"
if [ "$1" = --update ]; then
    cp "$tmp/language.md" docs/language.md && echo "docs/language.md: stdlib and hp sections regenerated"
    exit 0
fi
if [ "$(grep -c '^<!-- stdlib:\(begin\|end\) -->$' docs/language.md)" -ne 2 ]; then
    fail "docs/language.md has the <!-- stdlib:begin --> and <!-- stdlib:end --> markers"
elif [ "$(grep -c '^<!-- hp:\(begin\|end\) -->$' docs/language.md)" -ne 2 ]; then
    fail "docs/language.md has the <!-- hp:begin --> and <!-- hp:end --> markers"
elif cmp -s "$tmp/language.md" docs/language.md; then
    pass "docs/language.md's stdlib reference and hp.* table match stdlib/catalogue.h"
else
    fail "docs/language.md's stdlib reference or hp.* table is stale: run sh tests/cli/docs.sh --update"
    diff docs/language.md "$tmp/language.md" | head -20
fi
# Every catalogue entry is documented (by its heading or table row).
missing=0
for name in $("$tmp/gen" | sed -n 's/^#### \(.*\)/\1/p'); do
    grep -q "^#### $name\$" docs/language.md || { missing=$((missing + 1)); echo "  not documented: $name"; }
done
if [ $missing -eq 0 ]; then pass "every layer, optimizer, loss, callback, tuner and data source has its section"
else fail "$missing catalogue entries have no section"; fi
# Every hp.* kind has its row, with the signature the checker binds.
n=$(grep -c '^| `hp\.[A-Za-z]*(' "$tmp/hp.md")
check "the hp.* table has one row per kind of the catalogue (5)" '[ "$n" -eq 5 ]'
check "hp.Int's row gives its signature" \
    "grep -qF '| \`hp.Int(name, min_value, max_value, step = None, sampling = \"linear\", default = None)\` |' \"\$tmp/hp.md\""
check "hp.Choice's row gives its signature" \
    "grep -qF '| \`hp.Choice(name, values, ordered = None, default = None)\` |' \"\$tmp/hp.md\""
