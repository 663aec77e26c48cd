"""Writes examples/data/diabetes_train.csv and diabetes_test.csv from
scikit-learn's copy of the diabetes table (Debian's python3-sklearn:
sklearn/datasets/data/diabetes_data_raw.csv.gz and diabetes_target.csv.gz),
with a header row, split 80/20 as sklearn.model_selection.train_test_split(
test_size=0.2, random_state=0) splits it.  The values are written as the
package has them (the raw, unscaled features).  Run with /usr/bin/python3."""
import gzip, os
import numpy as np
from sklearn.model_selection import train_test_split

SRC = "/usr/lib/python3/dist-packages/sklearn/datasets/data"
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "data")
COLUMNS = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6", "target"]

with gzip.open(os.path.join(SRC, "diabetes_data_raw.csv.gz"), "rt") as f:
    rows = [line.split() for line in f if line.strip()]
with gzip.open(os.path.join(SRC, "diabetes_target.csv.gz"), "rt") as f:
    target = [float(line) for line in f if line.strip()]
assert len(rows) == len(target) == 442
index = np.arange(442)
train, test = train_test_split(index, test_size=0.2, random_state=0)
for name, part in (("diabetes_train.csv", train), ("diabetes_test.csv", test)):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for i in part:
            f.write(",".join(rows[i]) + ",%g\n" % target[i])
