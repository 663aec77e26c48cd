/* optim.h: the optimizers, as one flat loop over every parameter.
 *
 * The runtime keeps all trainable parameters of a trial in one float
 * buffer, their gradients in a second and the optimizer's state in a third,
 * so a step is a single call over n floats.  Formulas and defaults are
 * Keras 3's.  Only trainable parameters belong in the range: weight decay
 * would otherwise shrink BatchNormalization's moving statistics. */
#ifndef HPTC_OPTIM_H
#define HPTC_OPTIM_H
#include <stddef.h>

typedef enum optim_kind { OPTIM_SGD, OPTIM_ADAM, OPTIM_ADAMW, OPTIM_RMSPROP } optim_kind;

typedef struct optim_config {
    optim_kind kind;
    float learning_rate;
    float momentum;      /* SGD, RMSprop */
    int nesterov;        /* SGD */
    float beta_1, beta_2; /* Adam, AdamW */
    float epsilon;       /* Adam, AdamW, RMSprop */
    float rho;           /* RMSprop */
    int centered;        /* RMSprop */
    float weight_decay;  /* any kind, decoupled: w -= lr·wd·w before the update */
} optim_config;

/* Keras 3 defaults for kind:
 *   SGD     learning_rate 0.01, momentum 0, nesterov false
 *   Adam    learning_rate 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7
 *   AdamW   as Adam, weight_decay 0.004
 *   RMSprop learning_rate 0.001, rho 0.9, momentum 0, epsilon 1e-7, centered false
 * weight_decay is 0 except for AdamW (Keras accepts it on every optimizer). */
void optim_defaults(optim_config *cfg, optim_kind kind);

/* Floats of state optim_step needs for n parameters (0 for plain SGD).  The
 * state must be zeroed before the first step. */
size_t optim_state_floats(const optim_config *cfg, size_t n);

/* One update of params from grads, step counting from 1 (Keras's
 * iterations + 1, used by Adam's bias correction).  Updates:
 *   SGD      m = momentum·m - lr·g; w += m
 *            (nesterov: w += momentum·m - lr·g with the new m;
 *             momentum 0: w -= lr·g, no state)
 *   Adam     α = lr·sqrt(1 - β2^t)/(1 - β1^t); m += (g - m)(1 - β1);
 *            v += (g² - v)(1 - β2); w -= α·m/(sqrt(v) + ε)
 *   AdamW    w -= lr·wd·w, then Adam
 *   RMSprop  v = ρv + (1 - ρ)g²; centered: a = ρa + (1 - ρ)g, d = v - a² + ε,
 *            else d = v + ε; inc = lr·g/sqrt(d);
 *            momentum > 0: m = momentum·m + inc, w -= m; else w -= inc
 * (Keras 3's RMSprop puts ε inside the square root.)  State layout: SGD
 * [m]; Adam/AdamW [m | v]; RMSprop [v | m if momentum > 0 | a if centered]. */
void optim_step(const optim_config *cfg, float *params, const float *grads, float *state,
                size_t n, long step);

/* The same step in pieces: the step's scalars once, then the update of any
 * range [lo, hi) of the n parameters (state laid out for n, as above), in
 * any order, each element once.  Ranges let a caller fuse the update with
 * its own pass over the fresh values (a layer packing its kernel). */
/* A learning rate per step: Keras's LearningRateSchedule objects.  step
 * is Keras's optimizer.iterations (0 at the first update).
 *   constant                 initial
 *   CosineDecay              s = min(step, decay_steps);
 *                            initial·((1 - alpha)·(1 + cos(π s/decay_steps))/2 + alpha)
 *   ExponentialDecay         initial·decay_rate^(step/decay_steps) (floored exponent with staircase)
 *   PiecewiseConstantDecay   values[0] while step <= boundaries[0], values[i]
 *                            while boundaries[i-1] < step <= boundaries[i],
 *                            values[n] after boundaries[n-1] */
typedef enum optim_schedule_kind {
    OPTIM_CONSTANT, OPTIM_COSINE_DECAY, OPTIM_EXPONENTIAL_DECAY, OPTIM_PIECEWISE_CONSTANT
} optim_schedule_kind;
enum { OPTIM_MAX_PIECES = 64 };
typedef struct optim_schedule {
    optim_schedule_kind kind;
    double initial, decay_steps, alpha, decay_rate;
    int staircase;
    int n_boundaries;
    double boundaries[OPTIM_MAX_PIECES], values[OPTIM_MAX_PIECES + 1];
} optim_schedule;
double optim_schedule_at(const optim_schedule *s, long step);

typedef struct optim_scalars {
    long step;
    float alpha;         /* Adam, AdamW: lr·sqrt(1 - β2^t)/(1 - β1^t) */
} optim_scalars;
optim_scalars optim_prepare(const optim_config *cfg, long step);
void optim_update(const optim_config *cfg, const optim_scalars *k, float *params, const float *grads, float *state,
                  size_t n, size_t lo, size_t hi);

#endif
