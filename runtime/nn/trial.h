/* trial.h: one concrete network, expanded from the IR for one assignment of
 * the hyperparameters, with all its memory planned up front.
 *
 * Expansion evaluates every guard and argument, infers shapes with the same
 * stdlib rules the checker used, and sizes four buffers: parameters (all
 * trainable tensors, contiguous, so the optimizer is one flat loop),
 * gradients (same layout), optimizer state, and an activation arena for the
 * largest batch.  Non-trainable state (BatchNormalization's moving
 * statistics) follows the trainable parameters in the same buffer, outside
 * the optimizer's range.  Nothing allocates after trial_expand. */
#ifndef HPTC_TRIAL_H
#define HPTC_TRIAL_H
#include <stddef.h>
#include <stdint.h>
#include "compiler/ir.h"
#include "runtime/err.h"
#include "runtime/nn/kernels.h"
#include "runtime/nn/optim.h"

/* The cross-entropies over classes first, then the element-wise losses
 * (LOSS_MSE on): those read float targets on one output and one-hot labels
 * on several. */
typedef enum { LOSS_SPARSE_CE, LOSS_CE, LOSS_MSE, LOSS_BCE, LOSS_MAE, LOSS_HUBER } trial_loss_kind;

typedef struct trial_layer trial_layer;
typedef struct trial trial;

/* What a trial costs, reported before it runs. */
typedef struct trial_cost {
    size_t params;              /* trainable */
    size_t nontrainable;        /* BatchNormalization moving statistics */
    size_t bytes;               /* every buffer of the trial, at its batch size */
    double flops_per_sample;    /* forward pass; a training step costs about 3x */
} trial_cost;

/* Expand the program under the assignment (values[] has p->n_hps slots,
 * inactive ones V_NONE) for batches of up to max_batch samples.  `seed` keys
 * every random draw of the trial (initial weights, dropout).  Returns NULL
 * with e filled when an argument fails to evaluate or memory is short. */
trial *trial_expand(const ir_program *p, const hpt_value *values, int max_batch, uint64_t seed, hpt_error *e);
/* max_batch 0 plans the trial without allocating a buffer: layers, shapes and
 * sizes only, for trial_describe_model, trial_summary, trial_get_cost's
 * counts and trial_weights's n (its pointer is NULL).  Such a trial cannot run. */
void trial_free(trial *t);

trial_cost trial_get_cost(const trial *t);
/* Elements of one input sample and number of outputs (INT_MAX for an
 * estimator trial: it takes as many classes as the data has). */
size_t trial_input_size(const trial *t);
int trial_output_size(const trial *t);

/* An estimator trial holds a classic estimator (runtime/estimators/estimator.h) instead
 * of a network: its catalogue entry, with *args (may be NULL) set to its
 * evaluated arguments; NULL for a network.  Such a trial has no parameters
 * (trial_weights is empty); train_fit fits it in one epoch and keeps the
 * fitted model in the trial, which train_evaluate then uses. */
const st_entry *trial_estimator(const trial *t, const hpt_value **args);
/* The key of the estimator's random draws (bootstrap, features), from the trial's seed. */
uint64_t trial_estimator_seed(const trial *t);
struct est_model *trial_fitted(const trial *t);
/* Hand the trial a fitted model (it frees the previous one and, at the end, this one). */
void trial_set_fitted(trial *t, struct est_model *m);
/* The evaluated search(...) and compile(...) arguments (batch_size may be a hyperparameter). */
const hpt_value *trial_search_args(const trial *t);
int trial_batch_size(const trial *t);
/* A one-line summary per layer ("dense_1  Dense  (None, 512)  401920"), Keras's model.summary(). */
void trial_summary(const trial *t, FILE *out);
/* The model a weights file is keyed by (docs/weights.md): everything that
 * decides the function the weights compute and how they are laid out, one
 * fact per line in one canonical spelling —
 *   data scale=0.003921569
 *   layer dense Dense units=512 activation="relu" use_bias=True output=(512,) params=401920
 *   loss SparseCategoricalCrossentropy from_logits=False
 * the data's arguments but its paths; each layer's arguments except those
 * flagged A_NOT_MODEL (initialisers, Dropout's rate, BatchNormalization's
 * momentum, input_shape), its output shape and parameter count, layers that
 * are the identity at inference (Dropout) left out; an estimator's
 * arguments; the loss.  with_names 0 leaves the layer names out (the model
 * hash is over that text): they number layers in the template, so widening
 * a loop's range renames the layers after it without changing the model. */
void trial_describe_model(const trial *t, int with_names, FILE *out);

/* The trial's layers, 0 the Input, in the IR's order (each after the layers
 * it reads): what runtime/nn/onnx.c walks. */
int trial_layer_count(const trial *t);
const trial_layer *trial_layer_at(const trial *t, int k);

/* The input buffer (max_batch, input_size) the caller fills before a step. */
float *trial_input(trial *t);

/* Forward the first B samples of trial_input.  training selects dropout and
 * batch statistics; step keys the dropout masks.  Returns the output (B, K). */
const float *trial_forward(trial *t, int B, int training, long step);
/* Loss of the last forward against labels (and, when training, backward into
 * the gradients and one optimizer step).  *correct gets the number of rows
 * whose arg-max matched.  Returns the mean loss over the batch. */
double trial_loss(trial *t, const int32_t *labels, int B, int *correct);
double trial_train_step(trial *t, const int32_t *labels, int B, long step, int *correct);
/* The step without the optimizer: forward in training mode, loss, and the
 * gradients of every trainable parameter (trial_gradients, the params' layout). */
double trial_compute_gradients(trial *t, const int32_t *labels, int B, long step, int *correct);
float *trial_gradients(trial *t, size_t *n);

/* Binary cross-entropy and the regression losses on a model of one output
 * read a number per sample, not a class: when trial_float_targets says so,
 * the caller fills trial_targets (max_batch floats, data_gather_targets)
 * before each trial_loss or step, and the labels only serve accuracy's
 * count.  On several outputs those losses read the integer label one-hot. */
int trial_float_targets(const trial *t);
/* The metrics compile(metrics = [...]) asks for beyond accuracy, as
 * runtime/nn/metrics.h's mask (0 for an estimator). */
unsigned trial_metrics(const trial *t);
float *trial_targets(trial *t);
/* What the metrics (runtime/nn/metrics.h) read after a forward and its
 * loss: the outputs (B, K), the targets (B, K: the float target, or the
 * label one-hot), and whether the outputs are logits. */
void trial_metric_view(trial *t, const int32_t *labels, int B, const float **pred, const float **target, int *logits);

/* The learning rate of the update at 0-based training step `step` (Keras's
 * optimizer.iterations): the optimizer's rate or its schedule's value, as
 * a float, times the scale ReduceLROnPlateau set (1 until then). */
double trial_learning_rate(const trial *t, long step);
/* The same without the scale. */
double trial_base_learning_rate(const trial *t, long step);
void trial_set_lr_scale(trial *t, double scale);

/* The whole state as one flat float vector: parameters then non-trainable
 * statistics (what a checkpoint or weights file stores), and the optimizer
 * state separately (for resuming mid-trial).  The weights may be written
 * through the pointer until the next trial_train_step: layers that keep a
 * packed copy of them repack after this call (get the pointer again to
 * write after a step). */
float *trial_weights(trial *t, size_t *n);
float *trial_optimizer_state(trial *t, size_t *n);
/* Reset the optimizer (a Hyperband promotion starts a fresh one, as Keras Tuner does). */
void trial_reset_optimizer(trial *t);

/* The backend the steps run on: 0 the library path (oneDNN's kernels and
 * C loops; "blas" on the command line, the default), 1 the LLVM JIT
 * (runtime/nn/jit.h): bias/activation/Dropout epilogues, backward chains,
 * BatchNormalization, the fused sparse cross-entropy and the optimizer
 * compiled for this trial's sizes, GEMMs and convolutions still oneDNN's.
 * Compiles now, or finds the code of an equal-shaped trial in the cache.
 * Returns -1 with e filled when the build has no JIT or LLVM fails; the
 * trial then stays on the library path.  An estimator trial has no steps:
 * nothing to do, 0. */
int trial_set_backend(trial *t, int jit, hpt_error *e);
/* --backend jit without the compile in the wall time: the trial's code is
 * compiled on a thread of its own while the first TRIAL_JIT_SWITCH_STEP
 * training steps (counted as train_fit counts them, across epochs and
 * resumes) run on the library path; at that step the trial waits for the
 * compile if it is not done yet and runs on the JIT from then on.  The
 * switch is at a fixed step so that a trial's numbers are a function of its
 * spec and seed, whatever the compile's timing (the two paths also agree
 * bit for bit, tests/unit/test_jit.c).  A compile that fails leaves the
 * trial on the library path with a warning on stderr.  Returns -1 with e
 * filled only when this build has no JIT (or memory is short). */
#define TRIAL_JIT_SWITCH_STEP 512
int trial_start_backend(trial *t, hpt_error *e);

/* The precision of a trial's steps, as Keras names its dtype policies:
 * float32, or mixed_bfloat16 (GEMM operands in bf16, accumulation, master
 * weights, optimizer state and loss in f32). */
typedef enum trial_dtype_policy { TRIAL_FLOAT32, TRIAL_MIXED_BFLOAT16 } trial_dtype_policy;
/* "float32" -> TRIAL_FLOAT32, "mixed_bfloat16" -> TRIAL_MIXED_BFLOAT16, else -1. */
int trial_dtype_policy_of(const char *name);
const char *trial_dtype_policy_name(trial_dtype_policy p);
/* Run the trial's steps in policy p (the default is float32).  mixed_bfloat16
 * needs bf16 instructions (AVX512-BF16 or AMX-BF16): without them -1 with e
 * naming the missing feature, never a silent slow path.  Call after
 * trial_expand and before the first step. */
int trial_set_dtype_policy(trial *t, trial_dtype_policy p, hpt_error *e);
trial_dtype_policy trial_get_dtype_policy(const trial *t);

/* The LLVM IR the JIT backend runs for this trial, after -O3; malloc'd
 * text the caller frees, or NULL with e filled as trial_set_backend. */
char *trial_llvm_ir(const trial *t, hpt_error *e);

#endif
