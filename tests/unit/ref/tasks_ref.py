"""Reference values of tests/unit/test_tasks.c: the element-wise losses and
their gradients (PyTorch), the metrics (scikit-learn, and Keras's
200-threshold AUC transcribed from keras/src/metrics/metrics_utils.py and
confusion_metrics.py into NumPy), and the learning-rate schedules (Keras 3's
formulas from keras/src/optimizers/schedules/learning_rate_schedule.py, in
float32 as Keras computes them).  Run with /usr/bin/python3 (torch,
python3-sklearn) and paste the output into the test."""
import math
import numpy as np
import torch
from sklearn.metrics import roc_auc_score, precision_score, recall_score, mean_absolute_error, mean_squared_error

def c_array(name, xs):
    return "static const double %s[] = { %s };" % (name, ", ".join("%.9g" % float(v) for v in xs))

x = torch.tensor([-3.0, -1.2, -0.4, 0.0, 0.3, 0.9, 2.5, 6.0], dtype=torch.float64)
y = torch.tensor([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], dtype=torch.float64)
reg = torch.tensor([0.5, -2.0, 1.0, 0.25, 3.0, -0.7, 1.9, 0.1], dtype=torch.float64)

def grad_of(f, inp):
    inp = inp.clone().requires_grad_(True)
    loss = f(inp)
    loss.backward()
    return loss.item(), inp.grad.numpy()

out = []
l, g = grad_of(lambda v: torch.nn.functional.binary_cross_entropy_with_logits(v, y), x)
out += ["/* binary_cross_entropy_with_logits(x, y) */", "static const double bce_logits_loss = %.12g;" % l, c_array("bce_logits_grad", g)]
p = torch.sigmoid(x)
l, g = grad_of(lambda v: torch.nn.functional.binary_cross_entropy(v, y), p)
out += ["/* binary_cross_entropy(sigmoid(x), y) */", "static const double bce_probs_loss = %.12g;" % l, c_array("bce_probs_grad", g)]
l, g = grad_of(lambda v: torch.nn.functional.l1_loss(v, reg), x)
out += ["/* l1_loss(x, reg) */", "static const double mae_loss = %.12g;" % l, c_array("mae_grad", g)]
l, g = grad_of(lambda v: torch.nn.functional.huber_loss(v, reg, delta=1.0), x)
out += ["/* huber_loss(x, reg, delta = 1) */", "static const double huber_loss = %.12g;" % l, c_array("huber_grad", g)]
l, g = grad_of(lambda v: torch.nn.functional.huber_loss(v, reg, delta=2.5), x)
out += ["/* huber_loss(x, reg, delta = 2.5) */", "static const double huber25_loss = %.12g;" % l, c_array("huber25_grad", g)]

# Metrics over 16 probabilities.
probs = np.array([0.05, 0.9, 0.42, 0.51, 0.77, 0.3, 0.65, 0.99, 0.12, 0.5, 0.61, 0.08, 0.88, 0.35, 0.72, 0.2], dtype=np.float32)
truth = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0], dtype=np.float32)
pred_label = (probs > 0.5).astype(int)
out += ["/* sklearn on the 16 probabilities */",
        "static const double exact_auc = %.12g;" % roc_auc_score(truth, probs),
        "static const double precision_05 = %.12g;" % precision_score(truth, pred_label),
        "static const double recall_05 = %.12g;" % recall_score(truth, pred_label),
        "static const double mae_metric = %.12g;" % mean_absolute_error(truth, probs),
        "static const double mse_metric = %.12g;" % mean_squared_error(truth, probs)]
# Keras's AUC(num_thresholds=200, curve="ROC", summation_method="interpolation").
n = 200
eps = 1e-7
thresholds = np.array([0.0 - eps] + [(i + 1) * 1.0 / (n - 1) for i in range(n - 2)] + [1.0 + eps], dtype=np.float32)
above = probs[None, :] > thresholds[:, None]
tp = (above & (truth[None, :] > 0.5)).sum(1).astype(np.float64)
fp = (above & (truth[None, :] <= 0.5)).sum(1).astype(np.float64)
fn = (~above & (truth[None, :] > 0.5)).sum(1).astype(np.float64)
tn = (~above & (truth[None, :] <= 0.5)).sum(1).astype(np.float64)
tpr = np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), 0)
fpr = np.where(fp + tn > 0, fp / np.maximum(fp + tn, 1), 0)
keras_auc = float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))
out += ["/* Keras's AUC() on them */", "static const double keras_auc = %.12g;" % keras_auc]

# Schedules, Keras 3 in float32.
f32 = np.float32
def cosine(init, decay_steps, alpha, step):
    s = min(f32(step), f32(decay_steps))
    frac = f32(s) / f32(decay_steps)
    cos = f32(0.5) * (f32(1.0) + f32(math.cos(f32(math.pi) * frac)))
    return f32(init) * ((f32(1) - f32(alpha)) * cos + f32(alpha))
def exponential(init, decay_steps, rate, staircase, step):
    p = f32(step) / f32(decay_steps)
    if staircase: p = f32(math.floor(p))
    return f32(init) * f32(f32(rate) ** p)
def piecewise(bounds, values, step):
    for b, v in zip(bounds, values):
        if step <= b: return f32(v)
    return f32(values[-1])
steps = [0, 1, 7, 50, 99, 100, 101, 250, 1000]
out += ["static const long schedule_steps[] = { %s };" % ", ".join(map(str, steps)),
        c_array("cosine_ref", [cosine(0.1, 100, 0.0, s) for s in steps]) + "  /* CosineDecay(0.1, 100) */",
        c_array("cosine_alpha_ref", [cosine(0.01, 250, 0.2, s) for s in steps]) + "  /* CosineDecay(0.01, 250, alpha = 0.2) */",
        c_array("exponential_ref", [exponential(0.1, 100, 0.5, False, s) for s in steps]) + "  /* ExponentialDecay(0.1, 100, 0.5) */",
        c_array("staircase_ref", [exponential(0.1, 100, 0.5, True, s) for s in steps]) + "  /* ... staircase = True */",
        c_array("piecewise_ref", [piecewise([7, 100], [1.0, 0.5, 0.1], s) for s in steps]) + "  /* PiecewiseConstantDecay([7, 100], [1.0, 0.5, 0.1]) */"]
print("\n".join(out))
