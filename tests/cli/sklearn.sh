#!/bin/sh
# Parity of the classic estimators with scikit-learn (Debian python3-sklearn,
# run as /usr/bin/python3), on scikit-learn's own digits data
# (examples/data/digits.csv, pixels / 16).  The tolerances are those of
# docs/language.md's "Classic estimators":
#   RidgeClassifier, LogisticRegression: every coefficient and intercept
#     within 1e-4 (absolute), multiclass on the first 100 or 200 rows and
#     binary on the 0/1 rows among the first 300 (one row of coefficients);
#   RandomForestClassifier: test accuracy (first 1200 rows / the other 597),
#     mean over 3 seeds each side, within 1 point;
#   KNeighborsClassifier (uniform and distance): test accuracy within 1 point.
# Without python3 and sklearn the test prints one SKIP line and passes.
# The estimator side is BUILD/tests/test_estimator's `fit` mode.
. "$(dirname "$0")/../lib.sh"
: "${BUILD:=build}"
PY=/usr/bin/python3
tool="$BUILD/tests/test_estimator"
if ! [ -x "$PY" ] || ! "$PY" -c 'import sklearn' 2> /dev/null; then
    echo "SKIP: scikit-learn parity (no /usr/bin/python3 with sklearn; apt-get install python3-sklearn)"
    exit 0
fi
[ -x "$tool" ] || { fail "$tool was not built"; exit 1; }
# The binary problem: the rows labelled 0 or 1 among the first 300.
{ head -1 examples/data/digits.csv; sed -n '2,301p' examples/data/digits.csv | grep -E ',(0|1)$'; } > "$tmp/binary.csv"

TOOL="$tool" DIGITS=examples/data/digits.csv BINARY="$tmp/binary.csv" "$PY" - << 'EOF'
import os, subprocess, warnings
import numpy as np
from sklearn.linear_model import RidgeClassifier, LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.neighbors import KNeighborsClassifier

warnings.simplefilter("ignore")

def load(path):
    d = np.loadtxt(path, delimiter=",", skiprows=1)
    return d[:, :-1] / 16.0, d[:, -1].astype(int)

def ours(path, n_train, n_test, kind, *kv):
    out = subprocess.run([os.environ["TOOL"], "fit", path, str(n_train), str(n_test), "0.0625", kind] + list(kv),
                         capture_output=True, text=True)
    if out.returncode:
        return None
    res = {"coef": []}
    for line in out.stdout.splitlines():
        key, *vals = line.split()
        if key == "coef":
            res["coef"].append([float(v) for v in vals])
        else:
            res[key] = [float(v) for v in vals]
    return res

def report(ok, what):
    print(("PASS: " if ok else "FAIL: ") + what, flush=True)

# The catalogue's defaults are scikit-learn's (None is None, "sqrt" is "sqrt").
classes = {"RidgeClassifier": RidgeClassifier, "LogisticRegression": LogisticRegression,
           "RandomForestClassifier": RandomForestClassifier, "KNeighborsClassifier": KNeighborsClassifier}
lines = subprocess.run([os.environ["TOOL"], "defaults"], capture_output=True, text=True).stdout.splitlines()
wrong = []
for line in lines:
    name, arg, value = line.split(" ", 2)
    want = classes[name]().get_params()[arg]
    if repr(want).replace("'", '"') != value and not (isinstance(want, (int, float)) and float(value) == want):
        wrong.append("%s.%s: hptc %s, sklearn %r" % (name, arg, value, want))
report(len(lines) >= 13 and not wrong, "every estimator argument's default is scikit-learn's (%d checked)%s"
       % (len(lines), "; " + "; ".join(wrong) if wrong else ""))

def linear(name, path, n_train, n_test, model, kind, *kv):
    X, y = load(path)
    m = model.fit(X[:n_train], y[:n_train])
    r = ours(path, n_train, n_test, kind, *kv)
    if r is None:
        report(False, name + ": the estimator tool failed")
        return
    coef, icpt = np.array(r["coef"]), np.array(r["intercept"])
    if not getattr(model, "fit_intercept", True):
        icpt = icpt * 0
    if coef.shape != m.coef_.shape:
        report(False, "%s: coefficients of shape %s, sklearn %s" % (name, coef.shape, m.coef_.shape))
        return
    err = max(np.abs(coef - m.coef_).max(), np.abs(icpt - m.intercept_).max())
    report(err <= 1e-4, "%s: coefficients and intercepts within 1e-4 of sklearn's (max |diff| %.2e)" % (name, err))
    acc = m.score(X[n_train:n_train + n_test], y[n_train:n_train + n_test])
    report(abs(acc - r["accuracy"][0]) < 1e-9, "%s: the same test accuracy (%.4f, sklearn %.4f)" % (name, r["accuracy"][0], acc))

digits, binary = os.environ["DIGITS"], os.environ["BINARY"]
linear("RidgeClassifier(alpha=1), 10 classes", digits, 200, 100, RidgeClassifier(alpha=1.0), "ridge", "alpha=1")
linear("RidgeClassifier(alpha=0.1), 2 classes", binary, 40, 20, RidgeClassifier(alpha=0.1), "ridge", "alpha=0.1")
# Problems both sides solve tightly, so the optimum is compared and not two
# stopping points: scipy's L-BFGS-B (under sklearn) also stops when f falls by
# under 2.2e-9 relatively, which on weakly penalised problems leaves the
# unpenalised intercepts ~1e-3 from the optimum, on either side.
linear("LogisticRegression(C=0.05), 10 classes", digits, 100, 100,
       LogisticRegression(C=0.05, tol=1e-10, max_iter=10000), "logistic", "C=0.05", "tol=1e-10", "max_iter=10000")
linear("LogisticRegression(C=0.1, fit_intercept=False), 10 classes", digits, 200, 100,
       LogisticRegression(C=0.1, tol=1e-10, max_iter=10000, fit_intercept=False), "logistic", "C=0.1", "tol=1e-10",
       "max_iter=10000", "fit_intercept=0")
linear("LogisticRegression(C=1), 2 classes", binary, 40, 20,
       LogisticRegression(C=1.0, tol=1e-10, max_iter=10000), "logistic", "C=1", "tol=1e-10", "max_iter=10000")

X, y = load(digits)
Xt, yt, Xv, yv = X[:1200], y[:1200], X[1200:], y[1200:]
for depth in (None, 8):
    sk = np.mean([RandomForestClassifier(n_estimators=100, max_depth=depth, random_state=s).fit(Xt, yt).score(Xv, yv)
                  for s in range(3)])
    kv = ["n_estimators=100"] + (["max_depth=%d" % depth] if depth else [])
    mine = np.mean([ours(digits, 1200, 597, "forest", "seed=%d" % s, *kv)["accuracy"][0] for s in range(3)])
    report(abs(mine - sk) <= 0.01, "RandomForestClassifier(max_depth=%s): accuracy %.4f within 1 point of sklearn's %.4f"
           % (depth, mine, sk))
for weights in ("uniform", "distance"):
    sk = KNeighborsClassifier(n_neighbors=5, weights=weights).fit(Xt, yt).score(Xv, yv)
    mine = ours(digits, 1200, 597, "knn", "n_neighbors=5", "weights=" + weights)["accuracy"][0]
    report(abs(mine - sk) <= 0.01, "KNeighborsClassifier(weights=%s): accuracy %.4f within 1 point of sklearn's %.4f"
           % (weights, mine, sk))
EOF
