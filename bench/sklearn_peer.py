"""scikit-learn peer of bench/sklearn.sh: the trials an hptc search ran, run again by sklearn.

Reads `hptc summary DIR --json`, turns every completed trial's hyperparameters
into the estimator KT's SklearnTuner guide builds (RandomForestClassifier or
RidgeClassifier), and cross-validates exactly those configurations with
GridSearchCV over a list of one-configuration grids (a RandomizedSearchCV
would draw its own), StratifiedKFold(k) without shuffling (the folds hptc
makes), scoring accuracy, n_jobs as given, refit=False (hptc does not refit).
Prints one line of `key value` pairs: wall seconds (data loading + search,
the same span hptc's wall covers, without the interpreter's start and
imports), best mean accuracy, and how far each trial's score is from hptc's.
Run with /usr/bin/python3 (Debian's python3-sklearn)."""
import argparse, gzip, json, time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import RidgeClassifier
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import Pipeline

ap = argparse.ArgumentParser()
ap.add_argument("--data", choices=["digits", "fashion"], required=True)
ap.add_argument("--summary", required=True)
ap.add_argument("--limit", type=int, default=0)
ap.add_argument("--folds", type=int, default=5)
ap.add_argument("--jobs", type=int, default=2)
a = ap.parse_args()

summary = json.load(open(a.summary))
trials = sorted((t for t in summary["trials"] if t["status"] == "completed"), key=lambda t: t["id"])

def estimator(hp):
    if hp["model_type"] == "random_forest":
        return RandomForestClassifier(n_estimators=hp["n_estimators"], max_depth=hp["max_depth"])
    return RidgeClassifier(alpha=hp["alpha"])

t0 = time.time()
if a.data == "digits":
    d = np.loadtxt("examples/data/digits.csv", delimiter=",", skiprows=1)
    X, y = d[:, :-1] / 16.0, d[:, -1].astype(int)
else:
    root = "/usr/share/datasets/fashion-mnist/"
    X = np.frombuffer(gzip.open(root + "train-images-idx3-ubyte.gz").read()[16:], np.uint8).reshape(-1, 784)
    y = np.frombuffer(gzip.open(root + "train-labels-idx1-ubyte.gz").read()[8:], np.uint8).astype(int)
    X = X / 255.0
if a.limit:
    X, y = X[:a.limit], y[:a.limit]
grid = [{"clf": [estimator(t["hyperparameters"])]} for t in trials]
search = GridSearchCV(Pipeline([("clf", RidgeClassifier())]), grid, scoring="accuracy",
                      cv=StratifiedKFold(a.folds), n_jobs=a.jobs, refit=False)
search.fit(X, y)
wall = time.time() - t0

scores = search.cv_results_["mean_test_score"]
ridge = [abs(s - t["score"]) for s, t in zip(scores, trials) if t["hyperparameters"]["model_type"] == "ridge"]
forest = [s - t["score"] for s, t in zip(scores, trials) if t["hyperparameters"]["model_type"] != "ridge"]
print("wall_seconds %.3f best_score %.4f trials %d ridge_max_abs_diff %.2e forest_mean_diff %+.4f"
      % (wall, scores.max(), len(trials), max(ridge) if ridge else 0, np.mean(forest) if forest else 0))
