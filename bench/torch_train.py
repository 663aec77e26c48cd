#!/usr/bin/python3
"""torch_train.py: the PyTorch peer of hptc, for benchmarks and accuracy parity.

Run it with /usr/bin/python3 (Debian's python3-torch 1.13 and numpy live
there).  It trains the same networks as hptc's examples, with Keras `fit`
semantics so the numbers are comparable:

  * data: Fashion-MNIST IDX .gz files from --data, else $HPT_DATA/fashion-mnist,
    else /usr/share/datasets/fashion-mnist; pixels scaled by 1/255;
  * validation_split 0.2: the LAST 20% of the training rows (48,000 train /
    12,000 val on the full set), split before any shuffling; --limit-train N
    keeps only the first N of the training part;
  * training rows reshuffled every epoch, batch 32;
  * glorot_uniform weights, zero biases; Adam(lr, betas (0.9, 0.999),
    eps 1e-7); cross-entropy on logits;
  * `loss`/`accuracy` are the sample-weighted means over the epoch's training
    batches (dropout active, weights changing), as Keras reports them;
    `val_*` are computed after the epoch in eval mode.

Models:
  --model mlp --units U: Flatten, Linear(784,U), ReLU, Dropout(0.2), Linear(U,10)
  --model cnn: Conv2d(1,32,3) ReLU MaxPool2, Conv2d(32,64,3) ReLU MaxPool2,
               Flatten, Dropout(0.25), Linear(1600,128) ReLU, Linear(128,10)
  (valid padding.  hptc's CNN is the same network in NHWC; only the order in
  which Flatten lists the 1600 features differs, which training from scratch
  does not see.)

Output, one line per epoch, then the test accuracy:
  epoch 1 seconds 7.812 loss 0.5123 accuracy 0.8190 val_loss 0.4012 val_accuracy 0.8560
  test_accuracy 0.8812
`seconds` covers the training steps only: the epoch's shuffle and, per batch,
forward, backward and the Adam update, plus the running loss/accuracy sums.
Validation and test evaluation are NOT included.  hptc reports the same
quantity.  A header line starting with '#' goes to stderr.

Threads: --threads T sets torch's intra-op threads AND OpenBLAS's own pthread
pool (OPENBLAS_NUM_THREADS, set before torch loads): this torch does its
Linear GEMMs through OpenBLAS, whose pool torch.set_num_threads does not
control, so without it "1 thread" would still run sgemm on every core.
--blas-threads B sets the OpenBLAS pool alone, for experiments.
"""
import argparse
import gzip
import os
import struct
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=("mlp", "cnn"), default="mlp")
    p.add_argument("--units", type=int, default=512)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--blas-threads", type=int, default=0,
                   help="OpenBLAS pool size (default: --threads)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit-train", type=int, default=0,
                   help="use only the first N rows of the training part")
    p.add_argument("--data", default=None, help="directory with the IDX .gz files")
    return p.parse_args()


ARGS = parse_args()
# OpenBLAS and OpenMP read these when torch loads them, so before the import.
os.environ["OPENBLAS_NUM_THREADS"] = str(ARGS.blas_threads or ARGS.threads)
os.environ["OMP_NUM_THREADS"] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402


def data_dir():
    if ARGS.data:
        return ARGS.data
    if os.environ.get("HPT_DATA"):
        return os.path.join(os.environ["HPT_DATA"], "fashion-mnist")
    return "/usr/share/datasets/fashion-mnist"


def read_idx(path, magic):
    with gzip.open(path, "rb") as f:
        raw = f.read()
    got, n = struct.unpack(">II", raw[:8])
    if got != magic:
        sys.exit(f"{path}: magic {got}, want {magic}")
    if magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        return np.frombuffer(raw, np.uint8, n * rows * cols, 16).reshape(n, rows, cols)
    return np.frombuffer(raw, np.uint8, n, 8)


def load(prefix):
    d = data_dir()
    x = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte.gz"), 2051)
    y = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte.gz"), 2049)
    x = torch.from_numpy(x.astype(np.float32) / 255.0)
    if ARGS.model == "cnn":
        x = x.unsqueeze(1)  # (N, 1, 28, 28)
    else:
        x = x.reshape(len(x), -1)  # (N, 784)
    return x.contiguous(), torch.from_numpy(y.astype(np.int64))


def build_model():
    if ARGS.model == "mlp":
        m = nn.Sequential(nn.Flatten(), nn.Linear(784, ARGS.units), nn.ReLU(),
                          nn.Dropout(0.2), nn.Linear(ARGS.units, 10))
    else:
        m = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Dropout(0.25),
                          nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    for layer in m:
        if isinstance(layer, (nn.Linear, nn.Conv2d)):
            # torch's fans for (out, in, kh, kw) equal Keras's for (kh, kw, in, out).
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return m


def evaluate(model, loss_fn, x, y):
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(x), 1000):
            out = model(x[i:i + 1000])
            loss_sum += loss_fn(out, y[i:i + 1000]).item() * len(out)
            correct += (out.argmax(1) == y[i:i + 1000]).sum().item()
    return loss_sum / len(x), correct / len(x)


def openblas_core():
    try:
        import ctypes
        lib = ctypes.CDLL("libopenblas.so.0")
        lib.openblas_get_corename.restype = ctypes.c_char_p
        return lib.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return "not loaded"


def main():
    torch.set_num_threads(ARGS.threads)
    torch.manual_seed(ARGS.seed)
    x_all, y_all = load("train")
    x_test, y_test = load("t10k")
    split = int(len(x_all) * (1 - 0.2))  # Keras: floor, before shuffling
    x_tr, y_tr = x_all[:split], y_all[:split]
    x_val, y_val = x_all[split:], y_all[split:]
    if ARGS.limit_train > 0:
        x_tr, y_tr = x_tr[:ARGS.limit_train], y_tr[:ARGS.limit_train]

    model = build_model()
    opt = torch.optim.Adam(model.parameters(), lr=ARGS.lr, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    print(f"# torch {torch.__version__}, threads {torch.get_num_threads()}, OpenBLAS threads "
          f"{os.environ['OPENBLAS_NUM_THREADS']}, kernel "
          f"{openblas_core()}, model {ARGS.model}, train {len(x_tr)} val {len(x_val)} "
          f"test {len(x_test)}, batch {ARGS.batch}", file=sys.stderr, flush=True)

    n, bs = len(x_tr), ARGS.batch
    for epoch in range(1, ARGS.epochs + 1):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        xs, ys = x_tr[perm], y_tr[perm]
        loss_sum = torch.zeros((), dtype=torch.float64)
        correct = torch.zeros((), dtype=torch.int64)
        for i in range(0, n, bs):
            xb, yb = xs[i:i + bs], ys[i:i + bs]
            out = model(xb)
            loss = loss_fn(out, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                loss_sum += loss.detach() * len(yb)
                correct += (out.argmax(1) == yb).sum()
        seconds = time.perf_counter() - t0
        val_loss, val_acc = evaluate(model, loss_fn, x_val, y_val)
        print(f"epoch {epoch} seconds {seconds:.3f} loss {loss_sum.item() / n:.4f} "
              f"accuracy {correct.item() / n:.4f} val_loss {val_loss:.4f} "
              f"val_accuracy {val_acc:.4f}", flush=True)
    _, test_acc = evaluate(model, loss_fn, x_test, y_test)
    print(f"test_accuracy {test_acc:.4f}", flush=True)


if __name__ == "__main__":
    main()
