#!/bin/sh
# docs/language.md's stdlib reference is generated from the catalogue by
# bench/gen_stdlib_doc.c: rebuild the generator and check the document holds
# its output between <!-- stdlib:begin --> and <!-- stdlib:end -->.
# `sh tests/cli/docs.sh --update` rewrites the section.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

if ! ${CC:-cc} -std=c11 -D_GNU_SOURCE -I. -o "$tmp/gen" bench/gen_stdlib_doc.c stdlib/catalogue.c stdlib/value.c \
        stdlib/shape_rules.c -lm 2> "$tmp/cc.err"; then
    fail "bench/gen_stdlib_doc.c builds"; cat "$tmp/cc.err"; exit 1
fi
"$tmp/gen" > "$tmp/section.md" || { fail "gen_stdlib_doc runs"; exit 1; }
# The document with the section replaced by the generator's output.
awk -v section="$tmp/section.md" '
    /^<!-- stdlib:begin -->$/ { print; while ((getline line < section) > 0) print line; skip = 1; next }
    /^<!-- stdlib:end -->$/ { skip = 0 }
    !skip { print }' docs/language.md > "$tmp/language.md"
if [ "$1" = --update ]; then
    cp "$tmp/language.md" docs/language.md && echo "docs/language.md: stdlib section regenerated"
    exit 0
fi
if [ "$(grep -c '^<!-- stdlib:\(begin\|end\) -->$' docs/language.md)" -ne 2 ]; then
    fail "docs/language.md has the <!-- stdlib:begin --> and <!-- stdlib:end --> markers"
elif cmp -s "$tmp/language.md" docs/language.md; then
    pass "docs/language.md's stdlib reference matches stdlib/catalogue.h"
else
    fail "docs/language.md's stdlib reference is stale: run sh tests/cli/docs.sh --update"
    diff docs/language.md "$tmp/language.md" | head -20
fi
# Every catalogue entry is documented (by its heading or table row).
missing=0
for name in $("$tmp/gen" | sed -n 's/^#### \(.*\)/\1/p'); do
    grep -q "^#### $name\$" docs/language.md || { missing=$((missing + 1)); echo "  not documented: $name"; }
done
if [ $missing -eq 0 ]; then pass "every layer, optimizer, loss, callback, tuner and data source has its section"
else fail "$missing catalogue entries have no section"; fi
