#!/usr/bin/python3
"""optuna_search.py: the seed search done the Optuna + PyTorch way, the peer of
`hptc run examples/fashion_mlp.hpt` in `make bench` (bench/search.sh).

The same space (units 16..512 step 16, learning_rate in [1e-2, 1e-3, 1e-4]),
the same data and split (last 20% of the 60k training rows for validation,
pixels / 255), the same network (Flatten, Dense(units, relu), Dropout(0.2),
Dense(10), glorot_uniform, Adam eps 1e-7, batch 32), Optuna's TPE sampler with
HyperbandPruner(min_resource=1, max_resource=10, reduction_factor=3): each
trial trains up to 10 epochs, reporting val_accuracy after each so the pruner
can stop it.  Trials run until --epochs-budget epochs have been trained in all
(hptc's search trains 120), so the two searches do the same amount of training
and their time per epoch trained compares directly.

With --pruner asha the pruner is Optuna's asynchronous successive halving,
SuccessiveHalvingPruner(min_resource=1, reduction_factor=3,
min_early_stopping_rate=0) -- rungs at 1, 3 and 9 epochs, trials still
training to 10 -- the peer of examples/asha.hpt (bench/asha.sh); --sampler
random draws configurations at random, as ASHA (Li et al.) and hptc's ASHA
do, instead of TPE.

Prints one line: optuna_wall_seconds W epochs E trials T best_val_accuracy A
seconds_per_epoch S.  Run with /usr/bin/python3 (Debian's python3-torch and
python3-optuna)."""
import argparse
import gzip
import os
import struct
import sys
import time

p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
p.add_argument("--epochs-budget", type=int, default=120)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--seed", type=int, default=1)
p.add_argument("--limit-train", type=int, default=0)
p.add_argument("--pruner", choices=["hyperband", "asha"], default="hyperband")
p.add_argument("--sampler", choices=["tpe", "random"], default="tpe")
ARGS = p.parse_args()
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
import optuna  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got, n = struct.unpack(">II", raw[:8])
    if got != magic:
        sys.exit(f"{path}: bad magic")
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, rows * cols)
    return np.frombuffer(raw, np.uint8, n, 8)


def load():
    d = os.path.join(os.environ["HPT_DATA"], "fashion-mnist") if os.environ.get("HPT_DATA") \
        else "/usr/share/datasets/fashion-mnist"
    x = read_idx(os.path.join(d, "train-images-idx3-ubyte.gz"), 2051)
    y = read_idx(os.path.join(d, "train-labels-idx1-ubyte.gz"), 2049)
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    y = torch.from_numpy(y.astype(np.int64))
    split = int(len(x) * 0.8)
    xt, yt = x[:split], y[:split]
    if ARGS.limit_train:
        xt, yt = xt[:ARGS.limit_train], yt[:ARGS.limit_train]
    return xt, yt, x[split:], y[split:]


X, Y, XV, YV = load()
TRAINED = [0]


def objective(trial):
    units = trial.suggest_int("units", 16, 512, step=16)
    lr = trial.suggest_categorical("learning_rate", [1e-2, 1e-3, 1e-4])
    model = nn.Sequential(nn.Linear(784, units), nn.ReLU(), nn.Dropout(0.2), nn.Linear(units, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    best = 0.0
    for epoch in range(10):
        if TRAINED[0] >= ARGS.epochs_budget:
            break
        model.train()
        perm = torch.randperm(len(X))
        xs, ys = X[perm], Y[perm]
        for i in range(0, len(xs), 32):
            out = model(xs[i:i + 32])
            loss = loss_fn(out, ys[i:i + 32])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        TRAINED[0] += 1
        model.eval()
        with torch.no_grad():
            acc = (model(XV).argmax(1) == YV).float().mean().item()
        best = max(best, acc)
        trial.report(acc, epoch + 1)
        if trial.should_prune():
            raise optuna.TrialPruned()
    return best


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(ARGS.seed)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if ARGS.pruner == "asha":
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3, min_early_stopping_rate=0)
    else:
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=10, reduction_factor=3)
    sampler = optuna.samplers.RandomSampler(seed=ARGS.seed) if ARGS.sampler == "random" \
        else optuna.samplers.TPESampler(seed=ARGS.seed)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    t0 = time.perf_counter()
    while TRAINED[0] < ARGS.epochs_budget:
        study.optimize(objective, n_trials=1)
    wall = time.perf_counter() - t0
    best = max((t.value for t in study.trials if t.value is not None), default=0.0)
    pruned_best = max((max(t.intermediate_values.values()) for t in study.trials if t.intermediate_values), default=0.0)
    print(f"optuna_wall_seconds {wall:.1f} epochs {TRAINED[0]} trials {len(study.trials)} "
          f"best_val_accuracy {max(best, pruned_best):.4f} seconds_per_epoch {wall / TRAINED[0]:.3f}", flush=True)


if __name__ == "__main__":
    main()
