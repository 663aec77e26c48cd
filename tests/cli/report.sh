#!/bin/sh
# hptc report: three small searches on the committed data slice (a random
# search whose spec and hyperparameter strings try to break out of the page,
# a Hyperband one, a grid with a diverging trial), each drawn into one HTML
# page and opened in headless Chromium: --dump-dom checks the DOM after the
# page's script ran (every plot has one mark per completed trial, Hyperband's
# arrows match the stored parents, the tooltip tells a trial's numbers, nothing
# escaped its quoting) and a screenshot is kept.  PASS:/FAIL: lines.
. "$(dirname "$0")/../lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser)
if [ -z "$CHROMIUM" ]; then
    fail "chromium is not installed (.ci/deps.sh installs it)"
    exit 1
fi
browse() {   # browse FLAGS... URL: headless Chromium, its own profile, nothing from the network
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" "$@" 2>/dev/null
}
# The part of a DOM dump from an element's id to the end of its first </svg>.
plot() { grep -o "id=\"$2\".*" "$1" | sed 's|</svg>.*||'; }
count() { grep -o "$1" | wc -l | tr -d ' '; }
attr() { grep -o "$2=\"[^\"]*\"" "$1" | head -1 | sed 's/.*="\(.*\)"/\1/'; }

# A random search over an Int, a Choice (whose strings and name hold markup),
# a Boolean and a log-sampled Float; its spec's comment holds markup too.
cat > "$tmp/r.hpt" <<SPEC
# </script><script>document.title = "pwned"</script><!-- & 'quoted'
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(units = hp.Int("units", min_value = 16, max_value = 64, step = 16),
        activation = hp.Choice("activation", ["relu", "tanh"]))
  if hp.Choice("tag</script>", ["</script><i id=\"pwned\">x</i>", "a & b <!--"]) == "a & b <!--" {
    Dropout(0.2)
  }
  Dense(10)
}
compile(optimizer = Adam(learning_rate = hp.Float("learning_rate", min_value = 1e-4, max_value = 1e-1, sampling = "log")),
        loss = "sparse_categorical_crossentropy", metrics = ["accuracy"])
tuner = RandomSearch(objective = "val_accuracy", max_trials = 6, directory = "$tmp/r", project_name = "p", seed = 1)
search(epochs = 2, validation_split = 0.2, batch_size = 32)
SPEC
# Hyperband(max_epochs 3, factor 3): brackets with promotions.
sed -e 's/RandomSearch(objective = "val_accuracy", max_trials = 6,/Hyperband(objective = "val_accuracy", max_epochs = 3, factor = 3,/' \
    -e "s|$tmp/r\"|$tmp/h\"|" -e 's/search(epochs = 2, /search(/' "$tmp/r.hpt" > "$tmp/h.hpt"
# A grid whose first trial diverges (as in run.sh).
cat > "$tmp/g.hpt" <<SPEC
data = datasets.fashion_mnist(scale = 1/255)
model {
  Input(shape = [28, 28])
  Flatten()
  Dense(32, activation = "relu")
  Dense(10)
}
compile(optimizer = SGD(learning_rate = hp.Choice("learning_rate", [1e3, 1e-2])), loss = "mse", metrics = ["accuracy"])
tuner = GridSearch(objective = "val_loss", directory = "$tmp/g", project_name = "p", max_consecutive_failed_trials = 5)
search(epochs = 2, validation_split = 0.2)
SPEC

for s in r h g; do
    "$HPTC" run "$tmp/$s.hpt" --jobs 2 > "$tmp/$s.log" 2>&1 || { fail "hptc run $s.hpt"; tail -5 "$tmp/$s.log"; }
    "$HPTC" summary "$tmp/$s/p" --json > "$tmp/$s.json"
    "$HPTC" report "$tmp/$s/p" -o "$tmp/$s.html" > "$tmp/$s.rlog" 2>&1
    st=$?
    check "report $s exits 0 and writes the page" "[ $st -eq 0 ] && [ -s $tmp/$s.html ]"
    # One line: attributes (the importance bars' tooltips) may hold newlines.
    browse --dump-dom "file://$tmp/$s.html" | tr '\n' ' ' > "$tmp/$s.dom"
done

completed=$(count '"status": "completed"' < "$tmp/r.json")
check "the random search completed its 6 trials" "[ $completed -eq 6 ]"
check "the page is self-contained: no src=, href=, <link>, url() but url(#...), or address but SVG's namespace" \
    "! grep -Eiq ' (src|href)=|<link|url\\([^#]|https?://[^w]|https?://w[^w]' $tmp/r.html"
check "the page's script ran without an error" "grep -q 'data-render-ms=\"[0-9.]*\"' $tmp/r.dom && ! grep -q 'data-render-errors=' $tmp/r.dom"
check "history: one point per completed trial" \
    "[ \"\$(attr $tmp/r.dom data-points)\" = $completed ] && [ \$(plot $tmp/r.dom plot-history | count 'class=\"pt\"') -eq $completed ]"
check "history: a best-so-far line" "plot $tmp/r.dom plot-history | grep -q 'class=\"best-line\" d=\"M'"
for k in 0 1 2 3; do
    n=$(plot "$tmp/r.dom" "plot-hp-$k" | count 'class="pt"')
    want=$(plot "$tmp/r.dom" "plot-hp-$k" | grep -o 'data-points="[0-9]*"' | head -1 | tr -dc 0-9)
    check "scatter $k: $n points, as many as it announces, one per completed trial" "[ '$n' = '$want' ] && [ '$n' = $completed ]"
done
check "scatter: four hyperparameters, the Choice on a band axis and learning_rate on a log one" \
    "[ \$(count 'data-plot=\"hp\"' < $tmp/r.dom) -eq 4 ] && grep -q '>activation (choice)<' $tmp/r.dom && grep -q '>learning_rate (log)<' $tmp/r.dom"
check "parallel coordinates: one line per completed trial" "[ \$(plot $tmp/r.dom plot-parallel | count 'class=\"pc-line\"') -eq $completed ]"
check "parallel coordinates: an axis per hyperparameter and the objective" \
    "[ \$(plot $tmp/r.dom plot-parallel | count 'class=\"label\"') -eq 5 ]"
bars=$(plot "$tmp/r.dom" plot-importance | grep -o 'data-value="[0-9.]*"' | tr -dc '0-9.\n')
check "importance: a bar per hyperparameter, each in [0, 1]" \
    "[ \$(echo '$bars' | grep -c .) -eq 4 ] && echo '$bars' | awk '\$1 < 0 || \$1 > 1 { bad = 1 } END { exit bad }'"
check "learning curves: solid and dashed curve of each of the 6 trials" \
    "[ \$(plot $tmp/r.dom plot-curves | count 'class=\"curve-val\"') -eq 6 ] && [ \$(plot $tmp/r.dom plot-curves | count 'class=\"curve-train\"') -eq 6 ]"

# Escaping: the spec and the strings are shown as text, nothing broke out.
check "the data block is closed only by its own </script>" "[ \$(grep -o '</script>' $tmp/r.html | wc -l) -eq 2 ]"
check "no markup from the spec or a hyperparameter became an element" \
    "! grep -q '<i id=\"pwned\"' $tmp/r.dom && ! grep -q '<title>pwned' $tmp/r.dom"
check "the spec is shown escaped, comment and all" \
    "grep -q '<pre id=\"spec-text\"># &lt;/script&gt;&lt;script&gt;document.title = \"pwned\"&lt;/script&gt;&lt;!-- &amp; .quoted.' $tmp/r.dom"
check "hyperparameter strings reach the page intact" \
    "grep -q 'data-hp=\"tag&lt;/script&gt;\"' $tmp/r.dom && grep -q 'tag&lt;/script&gt;=a &amp; b &lt;!--' $tmp/r.dom"
check "the store's meta is shown" "grep -q '<th>hptc_version</th><td><code>[0-9]' $tmp/r.dom && grep -q '<th>backend</th>' $tmp/r.dom"

# Hover: a page that frames the report, points at the first history point, reads the tooltip.
cat > "$tmp/hover.html" <<'HTML'
<!DOCTYPE html><html><body><iframe id="f" src="r.html" width="1400" height="900"></iframe>
<script>
document.getElementById('f').onload = function () {
  var d = this.contentDocument, pt = d.querySelector('#plot-history circle.pt'), r = pt.getBoundingClientRect();
  pt.dispatchEvent(new MouseEvent('mouseover', { bubbles: true, clientX: r.left + 2, clientY: r.top + 2 }));
  var tip = d.getElementById('tip'), out = document.createElement('pre');
  out.id = 'seen';
  out.setAttribute('data-hidden', tip.hidden);
  out.textContent = tip.textContent;
  document.body.appendChild(out);
};
</script></body></html>
HTML
browse --allow-file-access-from-files --dump-dom "file://$tmp/hover.html" > "$tmp/hover.dom"
first=$(grep -o '"id": [0-9]*, "status": "completed", "score": [0-9.]*' "$tmp/r.json" | head -1)
id=$(echo "$first" | sed 's/"id": \([0-9]*\).*/\1/')
check "hovering a point shows its trial, score and hyperparameters" \
    "grep -q 'data-hidden=\"false\">Trial $id · completed' $tmp/hover.dom && grep -q 'val_accuracy = 0\\.[0-9]' $tmp/hover.dom && grep -q '^units = [0-9]*' $tmp/hover.dom && grep -q '^learning_rate = ' $tmp/hover.dom"

# Hyperband: an arrow per promotion, a node per trial.
hb_trials=$(count '"id": ' < "$tmp/h.json")
promoted=$(count '"parent": [0-9]' < "$tmp/h.json")
check "Hyperband: $promoted promotions drawn as $promoted arrows" \
    "[ $promoted -ge 1 ] && [ \$(count 'class=\"hb-edge\"' < $tmp/h.dom) -eq $promoted ] && grep -q 'data-edges=\"$promoted\"' $tmp/h.dom"
check "Hyperband: a node per trial, grouped by bracket" \
    "[ \$(count 'class=\"hb-node pt\"' < $tmp/h.dom) -eq $hb_trials ] && [ \$(count 'data-plot=\"hyperband\"' < $tmp/h.dom) -ge 2 ]"
check "Hyperband: a promoted trial's learning curve starts at its parent's first epoch" \
    "grep -q 'class=\"curve-val\" d=\"M[0-9.]*,[0-9.]*L[0-9.]*,[0-9.]*L' $tmp/h.dom"
check "the random search has no Hyperband diagram" "grep -q 'Not a Hyperband search' $tmp/r.dom"

# Failures: the diverged trial is listed with its reason and left out of the plots.
check "failed trials are listed with their reason" \
    "grep -o 'id=\"failed\".*' $tmp/g.dom | grep -q '<tr data-trial=\"0\"><td class=\"num\">0</td><td><code>{\"learning_rate\": [0-9e+.]*}</code></td><td>loss became'"
check "a failed trial is marked on the history but has no point" \
    "[ \"\$(attr $tmp/g.dom data-points)\" = 1 ] && plot $tmp/g.dom plot-history | grep -q 'class=\"fail-mark\"'"

# A screenshot, kept for a look.
shots=$(mktemp -d "${TMPDIR:-/tmp}/hptc-report-test.XXXXXX")
browse --screenshot="$shots/report.png" --window-size=1400,3000 "file://$tmp/h.html" > /dev/null
check "screenshot saved: $shots/report.png" "[ -s $shots/report.png ]"

"$HPTC" report "$tmp/nowhere" -o "$tmp/x.html" > "$tmp/x.log" 2>&1
check "a directory without a store is refused" "[ \$? -eq 1 ] && grep -q 'no hptc.db here' $tmp/x.log"
"$HPTC" report "$tmp/r/p" > /dev/null 2>&1
check "report without -o is a usage error" "[ \$? -eq 2 ]"
