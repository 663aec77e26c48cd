#!/bin/sh
# .ci/onnxruntime.sh: onnxruntime-node 1.30.0, the runtime tests/cli/onnx.sh
# runs every exported model in, put once into a cache outside the repository
# (${XDG_CACHE_HOME:-~/.cache}/hptc/onnxruntime-node) by `make test` before
# any test runs, so no test fetches anything.  Debian has no onnxruntime; npm
# is the one way to it this machine has.  `npm ci` installs exactly the
# versions of .ci/onnxruntime/package-lock.json and checks each tarball
# against its sha512 there; --ignore-scripts skips the package's install
# script, which only fetches GPU parts (the CPU runtime is in the package).
# Without node and npm it says so and installs nothing: the ONNX test then
# prints SKIP lines naming the reason.  A failed install is a warning, not
# the end of `make test` (the same SKIP lines follow).
lock=$(cd "$(dirname "$0")" && pwd)/onnxruntime
cache=${XDG_CACHE_HOME:-$HOME/.cache}/hptc/onnxruntime-node
say() { echo "hptc: $*"; }

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    say "onnxruntime-node: node and npm are not both installed; tests/cli/onnx.sh will skip its onnxruntime comparisons"
    exit 0
fi
if [ -f "$cache/node_modules/onnxruntime-node/package.json" ] && cmp -s "$lock/package-lock.json" "$cache/package-lock.json"; then
    exit 0
fi
say "onnxruntime-node: installing 1.30.0 with npm ci --ignore-scripts into $cache (once, for tests/cli/onnx.sh)"
rm -rf "$cache" && mkdir -p "$cache" && cp "$lock/package.json" "$lock/package-lock.json" "$cache/" || exit 0
if ! npm ci --prefix "$cache" --ignore-scripts --no-audit --no-fund; then
    say "warning: npm could not install onnxruntime-node; tests/cli/onnx.sh will skip its onnxruntime comparisons"
    rm -f "$cache/package-lock.json"   # so the next make test tries again
fi
exit 0
