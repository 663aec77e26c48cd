"""scikit-learn's RidgeCV on examples/data/diabetes_{train,test}.csv, the
split hptc's examples/diabetes_regression.hpt trains and tests on, with the
features standardised on the training rows as csv(standardize = True)
does.  Prints the test RMSE.  Run with /usr/bin/python3 (python3-sklearn)."""
import os, sys
import numpy as np
from sklearn.linear_model import RidgeCV
from sklearn.preprocessing import StandardScaler

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "examples", "data")
def load(name):
    a = np.loadtxt(os.path.join(here, name), delimiter=",", skiprows=1)
    return a[:, :-1], a[:, -1]
x, y = load("diabetes_train.csv")
tx, ty = load("diabetes_test.csv")
scaler = StandardScaler().fit(x)
model = RidgeCV(alphas=np.logspace(-3, 3, 61)).fit(scaler.transform(x), y)
rmse = float(np.sqrt(np.mean((model.predict(scaler.transform(tx)) - ty) ** 2)))
default = RidgeCV().fit(scaler.transform(x), y)
rmse_default = float(np.sqrt(np.mean((default.predict(scaler.transform(tx)) - ty) ** 2)))
print("RidgeCV test RMSE %.4f (alpha %.4g of 61 in 1e-3..1e3); with RidgeCV's default alphas (0.1, 1, 10): %.4f"
      % (rmse, model.alpha_, rmse_default))
