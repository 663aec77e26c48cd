#!/bin/sh
# The tree's order (docs/architecture.md): a file includes headers of its own
# folder or of a folder below it, never one above.  The folders, lowest first:
#   0 stdlib   1 compiler   2 grammar, runtime (err, rng, json)
#   3 runtime/data, runtime/store   4 runtime/estimators   5 runtime/nn (and
#   runtime/nn/layers)   6 runtime/tune   7 cli
# Two folders of one rank may not include each other either, so the order has
# no circle.  Every quoted #include of every source is checked; angle-bracket
# (system) includes are not ours.  A violation names the file and the header.
. "$(dirname "$0")/../lib.sh"

# The module a folder belongs to: runtime/nn/layers is part of runtime/nn.
module_of() {
    case $1 in
    runtime/nn/*) echo runtime/nn ;;
    cli/*) echo cli ;;
    *) echo "$1" ;;
    esac
}

rank_of() {
    case $1 in
    stdlib) echo 0 ;;
    compiler) echo 1 ;;
    grammar | runtime) echo 2 ;;
    runtime/data | runtime/store) echo 3 ;;
    runtime/estimators) echo 4 ;;
    runtime/nn) echo 5 ;;
    runtime/tune) echo 6 ;;
    cli) echo 7 ;;
    *) echo ;;
    esac
}

files=$(find stdlib compiler grammar runtime cli -name '*.[chly]' | sort)
n_files=0 n_includes=0 unknown= upward=
for f in $files; do
    n_files=$((n_files + 1))
    from=$(module_of "$(dirname "$f")")
    r_from=$(rank_of "$from")
    [ -n "$r_from" ] || unknown="$unknown $from"
    for h in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f"); do
        case $h in */*) to=$(module_of "$(dirname "$h")") ;; *) continue ;; esac   # same folder, or generated
        [ "$to" = "$from" ] && continue
        n_includes=$((n_includes + 1))
        r_to=$(rank_of "$to")
        if [ -z "$r_to" ]; then
            unknown="$unknown $to"
        elif [ "$r_to" -ge "$r_from" ]; then
            upward="$upward $f->$h"
        fi
    done
done
check "the order's folders cover the tree (checked $n_files files, $n_includes includes across folders)" \
    '[ -z "$unknown" ] && [ "$n_files" -gt 60 ] && [ "$n_includes" -gt 50 ]'
[ -z "$unknown" ] || echo "  folders without a rank:$unknown"
check "no include runs up or sideways in the tree" '[ -z "$upward" ]'
[ -z "$upward" ] || echo "$upward" | tr ' ' '\n' | sed '/^$/d; s/^/  /'

# The check itself can fail: a header of cli/ included from runtime/nn is caught.
mkdir -p "$tmp/runtime/nn"
echo '#include "cli/cli.h"' > "$tmp/runtime/nn/bad.c"
bad=$(cd "$tmp" && for f in runtime/nn/bad.c; do
    r_from=$(rank_of runtime/nn)
    h=$(sed -n 's/^#include "\([^"]*\)"/\1/p' "$f")
    [ "$(rank_of "$(dirname "$h")")" -ge "$r_from" ] && echo "$f->$h"
done)
check "an upward include is reported" '[ "$bad" = "runtime/nn/bad.c->cli/cli.h" ]'

# No switch over layer kinds outside the layer table (runtime/nn/layers/):
# the runtime knows a layer through its row, not through a case per kind.
layers=$(sed -n 's/^ *X(\([A-Za-z0-9]*\), ST_LAYER,.*/\1/p' stdlib/catalogue.h)
pattern=$(echo $layers | sed 's/ /\\|/g')
switches=$(grep -rn "case ST_\($pattern\):" runtime cli | grep -v '^runtime/nn/layers/' || true)
check "the catalogue's layers are known ($(echo $layers | wc -w) of them)" '[ "$(echo $layers | wc -w)" -ge 9 ]'
check "no switch over layer kinds outside runtime/nn/layers" '[ -z "$switches" ]'
[ -z "$switches" ] || echo "  $switches"
