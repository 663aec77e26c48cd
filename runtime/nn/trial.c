/* trial.c: expanding a trial and running its steps (see trial.h).
 *
 * trial.c knows no layer kind: each layer's plan, sizes, init, forward and
 * backward are its row of the layer table (runtime/nn/layers/layers.h).
 * Layer 0 is always the Input, whose output is the input buffer.  A layer's
 * `out` pointer is set by each forward: its own buffer, or the input's for
 * layers that are views (Flatten and Reshape always, Dropout at inference),
 * so a view costs nothing.  Backward walks from the loss down, ping-ponging the
 * gradient between two buffers sized for the largest activation; kernels
 * that may work in place (activation, dropout, flatten) leave it where it is.
 *
 * A graph (a merge layer, or a layer reading another than the one before
 * it) keeps its layers in the IR's order, which puts every layer after the
 * ones it reads, so forward is the same walk.  Its backward gives each
 * layer a gradient buffer of its own: a layer read by several sums their
 * gradients there (the first writes it, the others add to it), and a
 * kernel that worked in place hands its buffer over instead of copying.
 *
 * Softmax + cross-entropy are fused: when the last layer ends in a softmax,
 * the loss reads its pre-softmax values and backward starts with the logits'
 * gradient, as Keras's TensorFlow backend does.  A cross-entropy on a last
 * layer without activation reads its outputs as logits (what from_logits =
 * True says in Keras); docs/language.md states this.  Sigmoid + binary
 * cross-entropy are fused the same way.  The element-wise losses (mse, mae,
 * huber, binary cross-entropy: losses.h) on one output read a float target
 * per sample that the caller puts in trial_targets; on several outputs they
 * read the integer label one-hot.  The optimizer's learning rate is its
 * schedule's value at the step, times ReduceLROnPlateau's scale. */
#include "runtime/nn/trial.h"
#include "runtime/nn/blas.h"
#include "runtime/nn/onednn.h"
#include "runtime/estimators/estimator.h"
#include "runtime/nn/jit.h"
#include "runtime/nn/layers/layers.h"
#include "runtime/nn/losses.h"
#include "runtime/nn/metrics.h"
#include "runtime/rng.h"

#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct trial {
    const ir_program *p;
    hpt_value *values;
    arena arena;
    trial_layer *layers;
    int n;
    hpt_value *search_args, *compile_args;
    int max_batch;
    size_t n_params, n_stats, n_opt, n_arena;
    float *params, *grads, *opt_state, *block;
    float *input, *grad_a, *grad_b, *target;
    /* A graph's backward (see the top): each layer's own gradient buffer,
     * the one holding its gradient now, whether it was written this step,
     * and a buffer to sum into.  upstream[k]: layer k or a layer it reads
     * (transitively) has trainable weights, so its gradient is wanted. */
    int graph;
    float **grad_own, **grad_at, *grad_sum;
    unsigned char *written, *upstream;
    optim_config opt;
    optim_schedule schedule;    /* the learning rate per step (constant: the optimizer's) */
    double lr_scale;            /* ReduceLROnPlateau's factor so far, 1 without it */
    trial_loss_kind loss;
    float huber_delta;
    int K;
    int fused;                  /* last layer's softmax (sigmoid for binary cross-entropy) fused into the loss */
    int probs;                  /* cross-entropy from probabilities */
    int float_targets;          /* an element-wise loss on one output: the caller fills trial_targets */
    uint64_t seed;
    int last_B;
    const jit_code *jit;        /* NULL: the library path's kernels */
    struct jit_pending *jit_pending;    /* --backend jit's compile, running beside the first steps */
    trial_dtype_policy policy;
    /* layer_run's weights_version, bumped whenever the weights may have
     * changed.  They are trusted (unchanged but by our own optimizer) from a
     * training step until trial_weights hands out a pointer to write them. */
    unsigned long weights_version;
    int weights_trusted;
    const ir_call *est;         /* an estimator trial: the estimator, instead of a network */
    hpt_value *est_args;        /* its evaluated arguments */
    est_model *fitted;          /* set by train_fit */
};

static void *aligned_floats(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes ? bytes : 64);
    return p;
}

/* The learning rate as a schedule: a number is a constant one. */
static void schedule_of(hpt_value v, float constant, optim_schedule *s)
{
    *s = (optim_schedule){ .kind = OPTIM_CONSTANT, .initial = constant };
    if (v.type != V_OBJECT || v.u.object.entry->kind != ST_SCHEDULE) return;
    const hpt_value *a = v.u.object.args;
    switch (v.u.object.entry->id) {
    case ST_CosineDecay:
        *s = (optim_schedule){ .kind = OPTIM_COSINE_DECAY, .initial = value_as_double(a[CosineDecay_initial_learning_rate]),
                               .decay_steps = value_as_double(a[CosineDecay_decay_steps]),
                               .alpha = value_as_double(a[CosineDecay_alpha]) };
        break;
    case ST_ExponentialDecay:
        *s = (optim_schedule){ .kind = OPTIM_EXPONENTIAL_DECAY,
                               .initial = value_as_double(a[ExponentialDecay_initial_learning_rate]),
                               .decay_steps = value_as_double(a[ExponentialDecay_decay_steps]),
                               .decay_rate = value_as_double(a[ExponentialDecay_decay_rate]),
                               .staircase = a[ExponentialDecay_staircase].u.b };
        break;
    case ST_PiecewiseConstantDecay: {
        hpt_value b = a[PiecewiseConstantDecay_boundaries], vals = a[PiecewiseConstantDecay_values];
        int n = b.u.list.n < OPTIM_MAX_PIECES ? b.u.list.n : OPTIM_MAX_PIECES;
        *s = (optim_schedule){ .kind = OPTIM_PIECEWISE_CONSTANT, .n_boundaries = n };
        for (int k = 0; k < n; k++) s->boundaries[k] = value_as_double(b.u.list.items[k]);
        for (int k = 0; k <= n && k < vals.u.list.n; k++) s->values[k] = value_as_double(vals.u.list.items[k]);
        s->initial = s->values[0];
        break;
    }
    }
}

/* Optimizer settings from compile(optimizer = ...): an object or a name. */
static void optimizer_of(hpt_value v, optim_config *cfg, optim_schedule *schedule)
{
    const st_entry *e = v.type == V_OBJECT ? v.u.object.entry : st_find(ST_OPTIMIZER, v.type == V_STRING ? v.u.s : "rmsprop");
    const hpt_value *a = v.type == V_OBJECT ? v.u.object.args : NULL;
    /* learning_rate is a number or a schedule object: LR keeps the object in lr (the number is then 0). */
    hpt_value lr = value_none();
#define ARG(name, dflt) (a ? (float)value_as_double(a[name]) : (dflt))
#define LR(name, dflt) (a && a[name].type == V_OBJECT ? (lr = a[name], 0.0f) : ARG(name, dflt))
    switch (e ? e->id : ST_RMSprop) {
    case ST_SGD:
        optim_defaults(cfg, OPTIM_SGD);
        cfg->learning_rate = LR(SGD_learning_rate, 0.01f);
        cfg->momentum = ARG(SGD_momentum, 0.0f);
        cfg->nesterov = a ? a[SGD_nesterov].u.b : 0;
        break;
    case ST_Adam:
        optim_defaults(cfg, OPTIM_ADAM);
        cfg->learning_rate = LR(Adam_learning_rate, 1e-3f);
        cfg->beta_1 = ARG(Adam_beta_1, 0.9f);
        cfg->beta_2 = ARG(Adam_beta_2, 0.999f);
        cfg->epsilon = ARG(Adam_epsilon, 1e-7f);
        break;
    case ST_AdamW:
        optim_defaults(cfg, OPTIM_ADAMW);
        cfg->learning_rate = LR(AdamW_learning_rate, 1e-3f);
        cfg->weight_decay = ARG(AdamW_weight_decay, 0.004f);
        cfg->beta_1 = ARG(AdamW_beta_1, 0.9f);
        cfg->beta_2 = ARG(AdamW_beta_2, 0.999f);
        cfg->epsilon = ARG(AdamW_epsilon, 1e-7f);
        break;
    default:
        optim_defaults(cfg, OPTIM_RMSPROP);
        cfg->learning_rate = LR(RMSprop_learning_rate, 1e-3f);
        cfg->rho = ARG(RMSprop_rho, 0.9f);
        cfg->momentum = ARG(RMSprop_momentum, 0.0f);
        cfg->epsilon = ARG(RMSprop_epsilon, 1e-7f);
    }
#undef ARG
#undef LR
    schedule_of(lr, cfg->learning_rate, schedule);
}

static const st_entry *loss_entry(hpt_value v, int *from_logits)
{
    *from_logits = 0;
    if (v.type == V_OBJECT) {
        const st_entry *e = v.u.object.entry;
        int arg = st_arg_index(e, "from_logits");
        if (arg >= 0) *from_logits = v.u.object.args[arg].u.b;
        return e;
    }
    return st_find(ST_LOSS, v.type == V_STRING ? v.u.s : "");
}

static size_t aligned16(size_t n) { return (n + 15) & ~(size_t)15; }

/* A view into one of the trial's buffers and the floats it takes. */
typedef struct region {
    void **at;
    size_t n;
} region;

/* Point every region into base, in order; aligned rounds each to 64 bytes
 * (the activation arena); a region of 0 floats stays NULL there. */
static void point_regions(const region *r, int n, float *base, int aligned)
{
    for (int k = 0; k < n; k++) {
        if (aligned && !r[k].n) continue;
        *r[k].at = base;
        base += aligned ? aligned16(r[k].n) : r[k].n;
    }
}

static size_t regions_floats(const region *r, int n, int aligned)
{
    size_t total = 0;
    for (int k = 0; k < n; k++) total += aligned ? aligned16(r[k].n) : r[k].n;
    return total;
}

/* Every buffer of the trial, as llm.c's malloc_and_point_parameters: the
 * table of sizes is made once, each buffer allocated once, and one pass
 * points the views.  Parameters: every layer's trainable tensors, then the
 * statistics (outside the optimizer's range); gradients the same layout as
 * the trainable part.  The activation arena: the input, each layer's output
 * (and z, its scratch), two gradient buffers for the largest activation,
 * the loss's target.  max_batch 0 sizes the parameters only. */
static int point_buffers(trial *t, int max_batch, hpt_error *e)
{
    region *params = ARENA_ARRAY(&t->arena, region, (size_t)t->n * ST_MAX_TENSORS);
    region *grads = ARENA_ARRAY(&t->arena, region, (size_t)t->n * ST_MAX_TENSORS);
    region *act = ARENA_ARRAY(&t->arena, region, (size_t)t->n * 5 + 5);
    if (!params || !grads || !act) return hpt_fail(e, "out of memory expanding a trial");
    int n_params = 0, n_grads = 0, n_act = 0;
    for (int k = 0; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        for (int j = 0; j < L->n_trainable; j++) {
            params[n_params++] = (region){ (void **)&L->weight[j], L->size[j] };
            grads[n_grads++] = (region){ (void **)&L->grad[j], L->size[j] };
        }
    }
    t->n_params = regions_floats(params, n_params, 0);
    for (int k = 0; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        for (int j = L->n_trainable; j < L->n_trainable + L->n_stats; j++)
            params[n_params++] = (region){ (void **)&L->weight[j], L->size[j] };
    }
    t->n_stats = regions_floats(params, n_params, 0) - t->n_params;
    t->n_opt = optim_state_floats(&t->opt, t->n_params);
    if (max_batch == 0) return 0;

    size_t B = (size_t)max_batch, max_act = t->layers[0].out_size;
    act[n_act++] = (region){ (void **)&t->input, B * t->layers[0].out_size };
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        layer_sizes s = { 0 };
        if (L->ops->sizes) L->ops->sizes(L, B, &s);
        if (L->out_size > max_act) max_act = L->out_size;
        /* z: the pre-activation, for the activation's backward or the loss's fused softmax. */
        int z = kern_act_needs_z(L->act) || (k == t->n - 1 && t->fused && !(L->ops->flags & LAYER_ACT_OF_INPUT));
        act[n_act++] = (region){ (void **)&L->y, s.y };
        act[n_act++] = (region){ (void **)&L->z, z ? B * L->out_size : 0 };
        act[n_act++] = (region){ (void **)&L->scratch, s.scratch };
        act[n_act++] = (region){ (void **)&L->argmax, s.ints };
    }
    act[n_act++] = (region){ (void **)&t->grad_a, B * max_act };
    act[n_act++] = (region){ (void **)&t->grad_b, B * max_act };
    if (t->graph) {
        for (int k = 1; k < t->n; k++)
            act[n_act++] = (region){ (void **)&t->grad_own[k], t->upstream[k] ? B * t->layers[k].out_size : 0 };
        act[n_act++] = (region){ (void **)&t->grad_sum, B * max_act };
    }
    act[n_act++] = (region){ (void **)&t->target, B * (size_t)t->K };
    t->n_arena = regions_floats(act, n_act, 1);

    t->params = aligned_floats(t->n_params + t->n_stats);
    t->grads = aligned_floats(t->n_params);
    t->opt_state = aligned_floats(t->n_opt);
    t->block = aligned_floats(t->n_arena);
    if (!t->params || !t->grads || !t->opt_state || !t->block)
        return hpt_fail(e, "%s: cannot allocate %.1f MB for the trial", t->p->file,
                        (double)(2 * t->n_params + t->n_stats + t->n_opt + t->n_arena) * 4 / 1e6);
    point_regions(params, n_params, t->params, 0);
    point_regions(grads, n_grads, t->grads, 0);
    point_regions(act, n_act, t->block, 1);
    t->layers[0].out = t->input;
    return 0;
}

/* Who reads whom, once the layers are planned: each layer's `next` (the
 * layer after it, when that is its only reader: a Dropout there may be
 * fused into its output pass) and, for a graph, which layers want a
 * gradient.  -1 when memory is short. */
static int plan_graph(trial *t)
{
    int *readers = calloc((size_t)t->n + 1, sizeof *readers);
    if (!readers) return -1;
    for (int k = 1; k < t->n; k++)
        for (int i = 0; i < t->layers[k].n_from; i++) readers[t->layers[k].from[i]->index]++;
    for (int k = 0; k + 1 < t->n; k++) {
        trial_layer *L = &t->layers[k], *after = L + 1;
        L->next = readers[k] == 1 && after->n_from == 1 && after->from[0] == L ? after : NULL;
    }
    free(readers);
    if (!t->graph) return 0;
    t->grad_own = ARENA_ARRAY(&t->arena, float *, t->n);
    t->grad_at = ARENA_ARRAY(&t->arena, float *, t->n);
    t->written = ARENA_ARRAY(&t->arena, unsigned char, t->n);
    t->upstream = ARENA_ARRAY(&t->arena, unsigned char, t->n);
    if (!t->grad_own || !t->grad_at || !t->written || !t->upstream) return -1;
    for (int k = 0; k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
        size_t trained = 0;
        for (int j = 0; j < L->n_trainable; j++) trained += L->size[j];
        t->upstream[k] = trained > 0;
        for (int i = 0; i < L->n_from; i++) t->upstream[k] |= t->upstream[L->from[i]->index];
        t->grad_own[k] = NULL;
    }
    return 0;
}

trial *trial_expand(const ir_program *p, const hpt_value *values, int max_batch, uint64_t seed, hpt_error *e)
{
    trial *t = calloc(1, sizeof *t);
    if (!t) return hpt_fail(e, "out of memory expanding a trial"), NULL;
    t->p = p;
    t->seed = seed;
    t->max_batch = max_batch;
    t->values = calloc((size_t)p->n_hps + 1, sizeof *t->values);
    t->layers = calloc((size_t)p->n_layers + 1, sizeof *t->layers);
    if (!t->values || !t->layers) goto oom;
    memcpy(t->values, values, sizeof *values * (size_t)p->n_hps);
    ir_assignment a = { t->values, p->n_hps };
    char why[300];
    hpt_value *args = ARENA_ARRAY(&t->arena, hpt_value, 32);
    t->search_args = ARENA_ARRAY(&t->arena, hpt_value, search_nargs);
    t->compile_args = ARENA_ARRAY(&t->arena, hpt_value, compile_nargs);
    if (!args || !t->search_args || !t->compile_args) goto oom;
    for (int k = 0; k < compile_nargs; k++) t->compile_args[k] = value_none();
    /* A model of estimators only has no compile(...). */
    if (ir_eval_call(p, &p->search, &a, &t->arena, t->search_args, why, sizeof why) ||
        (p->compile.entry && ir_eval_call(p, &p->compile, &a, &t->arena, t->compile_args, why, sizeof why))) {
        hpt_fail(e, "%s: %s", p->file, why);
        goto fail;
    }

    /* Shapes and sizes of every present layer.  at[k]: the trial layer
     * whose output template layer k's readers read — its own, or for an
     * absent layer what its first input reads. */
    int *at = malloc(sizeof *at * ((size_t)p->n_layers + 1));
    if (!at) goto oom;
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        at[k] = c->n_inputs ? at[c->inputs[0]] : -1;
        if (!ir_holds(p, c->guard, &a)) continue;
        trial_layer *L = &t->layers[t->n];
        L->call = c;
        if (ir_eval_call(p, c, &a, &t->arena, args, why, sizeof why)) {
            hpt_fail(e, "%s: layer %s (line %d): %s", p->file, c->name, ir_line_of(p, c->span.start), why);
            goto fail;
        }
        if (c->entry->kind == ST_ESTIMATOR) {
            /* The checker made it the last present layer, after Input and Flatten only. */
            t->est = c;
            t->est_args = ARENA_ARRAY(&t->arena, hpt_value, c->entry->n_args);
            if (!t->est_args) goto oom;
            memcpy(t->est_args, args, sizeof *args * (size_t)c->entry->n_args);
            continue;
        }
        L->index = t->n;
        for (int i = 0; i < c->n_inputs && i < ST_MAX_INPUTS; i++) L->from[L->n_from++] = &t->layers[at[c->inputs[i]]];
        if (L->n_from) {
            memcpy(L->in, L->from[0]->outs, sizeof L->in);
            L->in_rank = L->from[0]->out_rank;
        }
        if (L->n_from > 1 || (L->n_from && L->from[0] != L - 1)) t->graph = 1;
        if (layer_plan(L, args, why, sizeof why)) {
            hpt_fail(e, "%s: layer %s (line %d): %s", p->file, c->name, ir_line_of(p, c->span.start), why);
            free(at);
            goto fail;
        }
        at[k] = t->n++;
    }
    free(at);
    if (plan_graph(t)) goto oom;
    trial_layer *last = &t->layers[t->n - 1];
    t->K = (int)last->out_size;
    if (t->est) {
        /* No network: empty parameter buffers keep the weights/checkpoint paths uniform. */
        t->params = aligned_floats(0);
        t->grads = aligned_floats(0);
        t->opt_state = aligned_floats(0);
        t->block = aligned_floats(0);
        if (!t->params || !t->grads || !t->opt_state || !t->block) goto oom;
        t->input = t->block;
        return t;
    }

    /* The loss, and whether the last softmax fuses into it. */
    int from_logits;
    const st_entry *loss = loss_entry(t->compile_args[compile_loss], &from_logits);
    switch (loss ? loss->id : ST_SparseCategoricalCrossentropy) {
    case ST_CategoricalCrossentropy: t->loss = LOSS_CE; break;
    case ST_MeanSquaredError: t->loss = LOSS_MSE; break;
    case ST_BinaryCrossentropy: t->loss = LOSS_BCE; break;
    case ST_MeanAbsoluteError: t->loss = LOSS_MAE; break;
    case ST_Huber: t->loss = LOSS_HUBER; break;
    default: t->loss = LOSS_SPARSE_CE;
    }
    hpt_value loss_v = t->compile_args[compile_loss];
    t->huber_delta = t->loss == LOSS_HUBER && loss_v.type == V_OBJECT ? (float)value_as_double(loss_v.u.object.args[Huber_delta]) : 1.0f;
    /* Cross-entropies fuse their output activation (softmax, or sigmoid for
     * the binary one) into the loss; another activation gives probabilities. */
    int cross_entropy = t->loss == LOSS_SPARSE_CE || t->loss == LOSS_CE || t->loss == LOSS_BCE;
    if (cross_entropy && !from_logits) {
        if (last->act == (t->loss == LOSS_BCE ? KERN_SIGMOID : KERN_SOFTMAX)) t->fused = 1;
        else if (last->act != KERN_LINEAR || (last->ops->flags & LAYER_ACT_OF_INPUT)) t->probs = last->act != KERN_LINEAR;
    }
    t->float_targets = t->loss >= LOSS_MSE && t->K == 1;
    optimizer_of(t->compile_args[compile_optimizer], &t->opt, &t->schedule);
    t->lr_scale = 1.0;

    if (point_buffers(t, max_batch, e)) goto fail;
    if (max_batch == 0) return t;   /* planned only: sizes and shapes, no buffers */

    /* Keras's initial weights: each layer's own (glorot_uniform kernels, BN gamma 1 and variance 1), zeros elsewhere. */
    uint64_t init_key = rng_key(seed, RNG_INIT);
    for (int k = 1; k < t->n; k++)
        if (t->layers[k].ops->init) t->layers[k].ops->init(&t->layers[k], rng_key(init_key, (uint64_t)k));
    return t;
oom:
    hpt_fail(e, "out of memory expanding a trial");
fail:
    trial_free(t);
    return NULL;
}

static void finish_backend(trial *t, int use);

void trial_free(trial *t)
{
    if (!t) return;
    finish_backend(t, 0);
    est_free(t->fitted);
    for (int k = 0; t->layers && k < t->n; k++)
        if (t->layers[k].kernel_state && t->layers[k].ops && t->layers[k].ops->release)
            t->layers[k].ops->release(&t->layers[k]);
    free(t->params), free(t->grads), free(t->opt_state), free(t->block);
    free(t->values), free(t->layers);
    arena_free(&t->arena);
    free(t);
}

trial_cost trial_get_cost(const trial *t)
{
    trial_cost c = { t->n_params, t->n_stats, 0, 0 };
    c.bytes = (2 * t->n_params + t->n_stats + t->n_opt + t->n_arena) * sizeof(float);
    for (int k = 0; k < t->n; k++) c.flops_per_sample += t->layers[k].flops;
    return c;
}

size_t trial_input_size(const trial *t) { return t->layers[0].out_size; }
int trial_output_size(const trial *t) { return t->est ? INT_MAX : t->K; }

const st_entry *trial_estimator(const trial *t, const hpt_value **args)
{
    if (args) *args = t->est ? t->est_args : NULL;
    return t->est ? t->est->entry : NULL;
}

uint64_t trial_estimator_seed(const trial *t) { return rng_key(t->seed, RNG_INIT); }
est_model *trial_fitted(const trial *t) { return t->fitted; }

void trial_set_fitted(trial *t, est_model *m)
{
    if (t->fitted != m) est_free(t->fitted);
    t->fitted = m;
}
const hpt_value *trial_search_args(const trial *t) { return t->search_args; }
int trial_batch_size(const trial *t) { return (int)t->search_args[search_batch_size].u.i; }
float *trial_input(trial *t) { return t->input; }
int trial_layer_count(const trial *t) { return t->n; }
const trial_layer *trial_layer_at(const trial *t, int k) { return &t->layers[k]; }

float *trial_weights(trial *t, size_t *n)
{
    /* The caller may write them (a load, restore_best_weights). */
    t->weights_trusted = 0;
    *n = t->n_params + t->n_stats;
    return t->params;
}

float *trial_optimizer_state(trial *t, size_t *n)
{
    *n = t->n_opt;
    return t->opt_state;
}

void trial_reset_optimizer(trial *t) { memset(t->opt_state, 0, t->n_opt * sizeof(float)); }

/* What the JIT generates for this trial: each LAYER_JIT layer's part (today
 * Dense and Activation epilogues with a following Dropout fused in, Conv2D's
 * backward chain, BatchNormalization), the fused sparse cross-entropy and
 * the optimizer.  layers has t->n slots; the others stay JIT_NONE. */
static void jit_spec_of(const trial *t, jit_layer *layers, jit_spec *s)
{
    memset(layers, 0, sizeof *layers * (size_t)t->n);
    for (int k = 1; k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
        if (L->ops->flags & LAYER_JIT) L->ops->jit(L, k == t->n - 1 && t->fused, &layers[k]);
    }
    *s = (jit_spec){ layers, t->n, t->loss == LOSS_SPARSE_CE && !t->probs ? t->K : 0, t->opt, t->n_params };
}

/* trial_start_backend's compile, on its own thread until the switch. */
typedef struct jit_pending {
    pthread_t thread;
    jit_layer *layers;
    jit_spec spec;
    const jit_code *code;
    hpt_error error;
} jit_pending;

static void *compile_beside(void *u)
{
    jit_pending *p = u;
    p->code = jit_get(&p->spec, &p->error);
    return NULL;
}

/* Wait for the pending compile; with use, run on its code from now on
 * (or, when it failed, say so and stay on the library path). */
static void finish_backend(trial *t, int use)
{
    jit_pending *p = t->jit_pending;
    if (!p) return;
    pthread_join(p->thread, NULL);
    t->jit_pending = NULL;
    if (use && p->code) {
        t->jit = p->code;
        for (int k = 1; k < t->n; k++) t->layers[k].drop_fused = p->layers[k - 1].dropout;
    } else if (use) {
        fprintf(stderr, "hptc: warning: --backend jit: %s; the trial goes on on the library path\n", p->error.message);
    }
    free(p->layers);
    free(p);
}

int trial_set_backend(trial *t, int jit, hpt_error *e)
{
    finish_backend(t, 0);
    for (int k = 0; k < t->n; k++) t->layers[k].drop_fused = 0;
    t->jit = NULL;
    if (!jit) return 0;
    if (t->est) return 0;   /* an estimator has no steps to compile: it runs as it is */
    jit_layer *layers = malloc(sizeof *layers * (size_t)t->n);
    if (!layers) return hpt_fail(e, "out of memory compiling a trial");
    jit_spec s;
    jit_spec_of(t, layers, &s);
    t->jit = jit_get(&s, e);
    for (int k = 1; t->jit && k < t->n; k++) t->layers[k].drop_fused = layers[k - 1].dropout;
    free(layers);
    return t->jit ? 0 : -1;
}

int trial_start_backend(trial *t, hpt_error *e)
{
    if (trial_set_backend(t, 0, e) || t->est) return 0;
    if (!jit_available()) return trial_set_backend(t, 1, e);   /* fails, saying why */
    jit_pending *p = calloc(1, sizeof *p);
    if (p) p->layers = malloc(sizeof *p->layers * (size_t)t->n);
    if (!p || !p->layers) {
        if (p) free(p);
        return hpt_fail(e, "out of memory compiling a trial");
    }
    jit_spec_of(t, p->layers, &p->spec);
    if (pthread_create(&p->thread, NULL, compile_beside, p) != 0) {
        free(p->layers), free(p);
        return trial_set_backend(t, 1, e);  /* no thread: compile now */
    }
    t->jit_pending = p;
    return 0;
}

int trial_dtype_policy_of(const char *name)
{
    if (!strcmp(name, "float32")) return TRIAL_FLOAT32;
    if (!strcmp(name, "mixed_bfloat16")) return TRIAL_MIXED_BFLOAT16;
    return -1;
}

const char *trial_dtype_policy_name(trial_dtype_policy p)
{
    return p == TRIAL_MIXED_BFLOAT16 ? "mixed_bfloat16" : "float32";
}

int trial_set_dtype_policy(trial *t, trial_dtype_policy p, hpt_error *e)
{
    if (p == TRIAL_MIXED_BFLOAT16 && !onednn_has_bf16()) {
        char have[128], held[200] = "";
        blas_cpu_features(blas_cpu_detect(), have, sizeof have);
        const char *isa = getenv("ONEDNN_MAX_CPU_ISA");
        if (isa && *isa)
            snprintf(held, sizeof held, " (ONEDNN_MAX_CPU_ISA=%.60s in the environment holds oneDNN to %s: unset it "
                     "to use them)", isa, onednn_isa_name());
        return hpt_fail(e, "mixed_bfloat16 needs a CPU with bf16 instructions (avx512_bf16 or amx_bf16); "
                        "this one has: %s%s; use dtype_policy \"float32\" (or --dtype-policy float32)", have, held);
    }
    t->policy = p;
    t->weights_version++;
    return 0;
}

trial_dtype_policy trial_get_dtype_policy(const trial *t) { return t->policy; }

char *trial_llvm_ir(const trial *t, hpt_error *e)
{
    jit_layer *layers = malloc(sizeof *layers * (size_t)t->n);
    if (!layers) return hpt_fail(e, "out of memory"), NULL;
    jit_spec s;
    jit_spec_of(t, layers, &s);
    char *ir = jit_emit_ir(&s, 1, e);
    free(layers);
    return ir;
}

void trial_summary(const trial *t, FILE *out)
{
    /* Columns as wide as their longest entry, at least Keras's widths. */
    int name_w = 22, type_w = 20;
    for (int k = 0; k < t->n; k++) {
        int n = (int)strlen(t->layers[k].call->name), m = (int)strlen(t->layers[k].call->entry->name);
        name_w = n > name_w ? n : name_w, type_w = m > type_w ? m : type_w;
    }
    fprintf(out, "%-*s %-*s %-18s %10s\n", name_w, "layer", type_w, "type", "output shape", "params");
    for (int k = 0; k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
        char shape[64] = "(None";
        for (int j = 0; j < L->out_rank; j++) snprintf(shape + strlen(shape), sizeof shape - strlen(shape), ", %d", L->outs[j]);
        strcat(shape, ")");
        fprintf(out, "%-*s %-*s %-18s %10zu", name_w, L->call->name, type_w, L->call->entry->name, shape,
                layer_weight_count(L));
        /* A graph's layers say what they read, as Keras's "Connected to". */
        for (int i = 0; t->graph && i < L->n_from; i++) fprintf(out, "%s%s", i ? ", " : "  <- ", L->from[i]->call->name);
        fprintf(out, "\n");
    }
    if (t->est) {
        fprintf(out, "%-22s %-20s", t->est->name, t->est->entry->name);
        for (int k = 0; k < t->est->entry->n_args; k++) {
            char v[64];
            value_format(v, sizeof v, t->est_args[k]);
            fprintf(out, "%s%s=%s", k ? ", " : " ", t->est->entry->args[k].name, v);
        }
        fprintf(out, "\nclassic estimator: fitted once on the training rows (no parameters, no epochs)\n");
        return;
    }
    trial_cost c = trial_get_cost(t);
    fprintf(out, "trainable params %zu, non-trainable %zu, memory %.1f MB, %.1f MFLOP per sample (forward)\n",
            c.params, c.nontrainable, (double)c.bytes / 1e6, c.flops_per_sample / 1e6);
}

/* ---- the model a weights file is keyed by -------------------------------- */

/* A T_FLOAT argument as the runtime uses it, a float: the shortest text that
 * reads back as the same float, so 1/255 and 0.003921569 describe one model. */
static void put_float32(FILE *out, double v)
{
    float f = (float)v;
    char text[40];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(text, sizeof text, "%.*g", prec, f);
        if (strtof(text, NULL) == f) break;
    }
    fprintf(out, "%s%s", text, strpbrk(text, ".eEn") ? "" : ".0");
}

/* " name=value" in the one spelling each argument type has in a description:
 * kernel_size = 3 is (3, 3), a shape list a tuple, an activation its
 * catalogue name (None is "linear").  Other None values are left out:
 * returns whether anything was written. */
static int put_model_arg(FILE *out, const st_arg *a, hpt_value v)
{
    hpt_value pair[2];
    if (a->type == T_ACTIVATION) {
        const st_entry *e = v.type == V_STRING ? st_find(ST_ACTIVATION, v.u.s) : NULL;
        v = value_string(e ? e->name : "linear");
    }
    if (v.type == V_NONE) return 0;
    fprintf(out, " %s=", a->name);
    if (a->type == T_FLOAT && value_is_number(v)) {
        put_float32(out, value_as_double(v));
        return 1;
    }
    if (a->type == T_INT_PAIR) {
        int h, w;
        st_pair(v, &h, &w);
        pair[0] = value_int(h), pair[1] = value_int(w);
        v = (hpt_value){ .type = V_LIST, .tuple = true, .u.list = { pair, 2 } };
    }
    if (a->type == T_SHAPE && v.type == V_LIST) v.tuple = true;
    hpt_value sides[4], pads[2];
    if (a->type == T_PADDING) {
        /* One spelling, ((top, bottom), (left, right)): padding = 1 is that model too. */
        int p[4];
        st_padding2d(v, p);
        for (int k = 0; k < 4; k++) sides[k] = value_int(p[k]);
        for (int k = 0; k < 2; k++) pads[k] = (hpt_value){ .type = V_LIST, .tuple = true, .u.list = { sides + 2 * k, 2 } };
        v = (hpt_value){ .type = V_LIST, .tuple = true, .u.list = { pads, 2 } };
    }
    value_fprint(out, v);
    return 1;
}

/* Every argument of a call that is part of the model (not A_NOT_MODEL, not
 * None); returns how many were written. */
static int put_model_args(FILE *out, const st_entry *e, const hpt_value *args)
{
    int written = 0;
    for (int k = 0; k < e->n_args; k++)
        if (!(e->args[k].flags & A_NOT_MODEL)) written += put_model_arg(out, &e->args[k], args[k]);
    return written;
}

/* A layer is the identity at inference when it holds no parameters, keeps
 * its input's shape and has no argument that acts at inference: Dropout. */
static int identity_at_inference(const trial_layer *L, int n_model_args)
{
    if (layer_weight_count(L) || n_model_args || L->n_from > 1 || L->in_rank != L->out_rank) return 0;
    return memcmp(L->in, L->outs, sizeof(int) * (size_t)L->out_rank) == 0;
}

void trial_describe_model(const trial *t, int with_names, FILE *out)
{
    const ir_program *p = t->p;
    ir_assignment a = { t->values, p->n_hps };
    arena scratch = { 0 };
    char why[300];
    hpt_value *args = ARENA_ARRAY(&scratch, hpt_value, 64);
    /* Paths say where the data is, not what the network sees: left out. */
    if (args && ir_eval_call(p, &p->data, &a, &scratch, args, why, sizeof why) == 0) {
        fprintf(out, "data");
        for (int k = 0; k < p->data.entry->n_args; k++)
            if (!(p->data.entry->args[k].flags & A_PATH)) put_model_arg(out, &p->data.entry->args[k], args[k]);
        fprintf(out, "\n");
    }
    /* A graph's layers also say which they read, by their place among the
     * lines (a layer left out stands for what it reads). */
    int *line_of = t->graph ? ARENA_ARRAY(&scratch, int, t->n) : NULL, lines = 0;
    for (int k = 0; args && k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
        if (line_of) line_of[k] = L->n_from ? line_of[L->from[0]->index] : 0;
        if (ir_eval_call(p, L->call, &a, &scratch, args, why, sizeof why)) continue;  /* evaluated once already */
        char *line = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&line, &len);
        if (!m) break;
        int n_args = put_model_args(m, L->call->entry, args);
        hpt_value dims[3];
        for (int j = 0; j < L->out_rank; j++) dims[j] = value_int(L->outs[j]);
        fprintf(m, " output=");
        value_fprint(m, (hpt_value){ .type = V_LIST, .tuple = true, .u.list = { dims, L->out_rank } });
        fprintf(m, " params=%zu", layer_weight_count(L));
        if (line_of && L->n_from) {
            fprintf(m, " reads=(");
            for (int i = 0; i < L->n_from; i++) fprintf(m, "%s%d", i ? ", " : "", line_of[L->from[i]->index]);
            fprintf(m, ")");
        }
        fclose(m);
        if (line && !identity_at_inference(L, n_args)) {
            fprintf(out, "layer%s%s %s%s\n", with_names ? " " : "", with_names ? L->call->name : "",
                    L->call->entry->name, line);
            if (line_of) line_of[k] = lines;
            lines++;
        }
        free(line);
    }
    if (t->est) {
        fprintf(out, "layer%s%s %s", with_names ? " " : "", with_names ? t->est->name : "", t->est->entry->name);
        put_model_args(out, t->est->entry, t->est_args);
        fprintf(out, "\n");
    } else {
        /* The loss reads the outputs (logits or probabilities) and is what eval reports. */
        int from_logits;
        hpt_value loss = t->compile_args[compile_loss];
        const st_entry *e = loss_entry(loss, &from_logits);
        if (e) {
            fprintf(out, "loss %s", e->name);
            for (int k = 0; k < e->n_args; k++)
                put_model_arg(out, &e->args[k], loss.type == V_OBJECT ? loss.u.object.args[k] : e->args[k].default_value);
            fprintf(out, "\n");
        }
    }
    arena_free(&scratch);
}

static layer_run run_of(const trial *t, int B, int training, long step)
{
    return (layer_run){ B, training, step, rng_key(t->seed, RNG_DROPOUT), t->jit, 0,
                        t->policy == TRIAL_MIXED_BFLOAT16, t->weights_version };
}

/* At each entry point: weights someone may have written get a new version,
 * so packed copies of them are refreshed. */
static void begin(trial *t)
{
    if (!t->weights_trusted) t->weights_version++;
}

static const float *forward(trial *t, int B, int training, long step)
{
    t->last_B = B;
    layer_run r = run_of(t, B, training, step);
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        L->ops->forward(L, &r, L->from[0]->out);
    }
    return t->layers[t->n - 1].out;
}

const float *trial_forward(trial *t, int B, int training, long step)
{
    begin(t);
    return forward(t, B, training, step);
}

/* The one-hot target of integer labels, in t->target. */
static void one_hot(trial *t, const int32_t *labels, int B)
{
    int K = t->K;
    memset(t->target, 0, sizeof(float) * (size_t)B * K);
    for (int i = 0; i < B; i++)
        if (labels[i] >= 0 && labels[i] < K) t->target[(size_t)i * K + labels[i]] = 1;
}

/* Keras's binary accuracy on one output: (probability > 0.5) == target.
 * A loss that reads logits thresholds them at 0 (the same probability). */
static int binary_hits(const trial *t, const float *scores, int B)
{
    float at = t->loss == LOSS_BCE && !t->probs && !t->fused ? 0.0f : 0.5f;
    int hits = 0;
    for (int i = 0; i < B; i++) hits += (float)(scores[i] > at) == t->target[i];
    return hits;
}

/* The loss of the last forward; with dlogits non-NULL its gradient, and in
 * *start the layer backward starts at and whether to skip its activation. */
static double loss_of(trial *t, const int32_t *labels, int B, int *correct, float *grad, int *start, int *skip_act)
{
    trial_layer *last = &t->layers[t->n - 1];
    const float *scores = last->out;
    const float *logits = scores;
    *start = t->n - 1;
    *skip_act = 0;
    if (t->fused) {
        if (last->ops->flags & LAYER_ACT_OF_INPUT) logits = last->from[0]->out, *start = last->from[0]->index;
        else logits = last->z, *skip_act = 1;
    }
    double loss;
    int K = t->K;
    if (t->loss >= LOSS_MSE) {
        /* Element-wise: one output reads the target the caller put in
         * trial_targets; several read the label one-hot. */
        if (!t->float_targets) one_hot(t, labels, B);
        const float *y = t->target;
        switch (t->loss) {
        case LOSS_BCE:
            loss = t->probs ? loss_bce_probs(scores, y, grad, B, K) : loss_bce_logits(logits, y, grad, B, K);
            break;
        case LOSS_MAE: loss = loss_mae(scores, y, grad, B, K); break;
        case LOSS_HUBER: loss = loss_huber(scores, y, grad, B, K, t->huber_delta); break;
        default: loss = kern_mse(scores, y, grad, B, K);
        }
        if (correct) *correct = t->float_targets ? binary_hits(t, scores, B) : kern_accuracy_sparse(scores, labels, B, K);
        return loss;
    } else if (t->probs) {
        loss = kern_sparse_ce_probs(scores, labels, grad, B, K);
    } else if (t->jit) {
        return jit_sparse_softmax_ce(t->jit, logits, scores, labels, grad, B, correct);
    } else {
        loss = kern_sparse_softmax_ce(logits, labels, grad, B, K);
    }
    if (correct) *correct = kern_accuracy_sparse(scores, labels, B, K);
    return loss;
}

double trial_loss(trial *t, const int32_t *labels, int B, int *correct)
{
    int start, skip;
    return loss_of(t, labels, B, correct, NULL, &start, &skip);
}

static double compute_gradients(trial *t, const int32_t *labels, int B, long step, int *correct);

typedef struct update_ctx {
    trial *t;
    optim_config cfg;                   /* the trial's, at this step's learning rate */
    optim_scalars k;                    /* the C loops' */
    float jit_k[JIT_OPTIM_SCALARS];     /* the JIT's */
} update_ctx;

static void update_range(void *ctx, size_t lo, size_t hi)
{
    update_ctx *c = ctx;
    trial *t = c->t;
    if (hi <= lo) return;
    if (t->jit) jit_optim_update(t->jit, c->jit_k, t->params, t->grads, t->opt_state, lo, hi);
    else optim_update(&c->cfg, &c->k, t->params, t->grads, t->opt_state, t->n_params, lo, hi);
}

/* One optimizer step over every trainable parameter.  Layers that keep a
 * packed kernel update their own tensors and pack them in the same pass
 * (fused_update); the rest is updated in flat ranges between them. */
static void optimizer_step(trial *t, long step)
{
    /* Keras evaluates the schedule at the optimizer's iterations before
     * this update: step - 1. */
    update_ctx c = { t, t->opt, { 0 }, { 0 } };
    c.cfg.learning_rate = (float)trial_learning_rate(t, step - 1);
    c.k = optim_prepare(&c.cfg, step);
    if (t->jit) jit_optim_prepare(&c.cfg, step, c.jit_k);
    layer_run r = run_of(t, t->last_B, 1, step);
    r.weights_version = t->weights_version + 1;
    size_t done = 0;
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        if (!L->ops->fused_update || !L->n_trainable || !L->size[0]) continue;
        size_t at = (size_t)(L->weight[0] - t->params);
        size_t len = 0;
        for (int j = 0; j < L->n_trainable; j++) len += L->size[j];
        if (at < done || !L->ops->fused_update(L, &r, update_range, &c, at)) continue;
        update_range(&c, done, at);
        done = at + len;
    }
    update_range(&c, done, t->n_params);
}

double trial_train_step(trial *t, const int32_t *labels, int B, long step, int *correct)
{
    if (t->jit_pending && step >= TRIAL_JIT_SWITCH_STEP) finish_backend(t, 1);
    begin(t);
    double loss = compute_gradients(t, labels, B, step, correct);
    if (isfinite(loss) && t->n_params) optimizer_step(t, step + 1);
    t->weights_version++;
    t->weights_trusted = 1;
    return loss;
}

double trial_learning_rate(const trial *t, long step)
{
    return (double)(float)optim_schedule_at(&t->schedule, step) * t->lr_scale;
}

double trial_base_learning_rate(const trial *t, long step) { return (double)(float)optim_schedule_at(&t->schedule, step); }

void trial_set_lr_scale(trial *t, double scale) { t->lr_scale = scale; }

int trial_float_targets(const trial *t) { return t->float_targets; }

unsigned trial_metrics(const trial *t)
{
    return t->est || !t->p->compile.entry ? 0 : metric_mask(t->compile_args[compile_metrics]);
}

float *trial_targets(trial *t) { return t->target; }

void trial_metric_view(trial *t, const int32_t *labels, int B, const float **pred, const float **target, int *logits)
{
    if (t->loss < LOSS_MSE) one_hot(t, labels, B);     /* the losses that read labels left no target */
    *pred = t->layers[t->n - 1].out;
    *target = t->target;
    *logits = t->loss == LOSS_BCE && !t->probs && !t->fused;
}

float *trial_gradients(trial *t, size_t *n)
{
    *n = t->n_params;
    return t->grads;
}

double trial_compute_gradients(trial *t, const int32_t *labels, int B, long step, int *correct)
{
    begin(t);
    return compute_gradients(t, labels, B, step, correct);
}

/* dst += src, n floats. */
static void add_into(float *restrict dst, const float *restrict src, size_t n)
{
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

/* A graph's backward from layer `start`, whose gradient is in grad_a (see
 * the top).  Layers whose gradient nobody wants (no weights at or before
 * them) are skipped, as the stack's walk stops at its first weights. */
static void backward_graph(trial *t, layer_run *r, int start, int skip_act)
{
    for (int k = 0; k < t->n; k++) t->grad_at[k] = t->grad_own[k], t->written[k] = 0;
    t->grad_at[start] = t->grad_a;
    t->written[start] = 1;
    for (int k = start; k >= 1; k--) {
        trial_layer *L = &t->layers[k];
        if (!t->upstream[k]) continue;
        if (!t->written[k]) {
            /* Read by no layer that passes a gradient on: its weights get none. */
            for (int j = 0; j < L->n_trainable; j++)
                if (L->size[j]) memset(L->grad[j], 0, sizeof(float) * L->size[j]);
            continue;
        }
        float *dy = t->grad_at[k];
        r->skip_act = k == start && skip_act;
        for (int i = 0; i < L->n_from; i++) {
            int j = L->from[i]->index;
            size_t n = (size_t)r->B * L->from[i]->out_size;
            float *dx = !t->upstream[j] ? NULL : t->written[j] ? t->grad_sum : t->grad_at[j];
            if (L->ops->backward_input) {
                L->ops->backward_input(L, r, dy, i, dx);
            } else if (!L->ops->backward(L, r, L->from[0]->out, dy, dx) && dx) {
                /* In place: the gradient stayed in dy, which k no longer needs. */
                if (t->written[j]) {
                    add_into(t->grad_at[j], dy, n);
                } else {
                    t->grad_at[j] = dy;
                    t->grad_at[k] = dx;
                    t->written[j] = 1;
                }
                continue;
            }
            if (!dx) continue;
            if (t->written[j]) add_into(t->grad_at[j], t->grad_sum, n);
            t->written[j] = 1;
        }
    }
}

static double compute_gradients(trial *t, const int32_t *labels, int B, long step, int *correct)
{
    forward(t, B, 1, step);
    int start, skip_act;
    float *cur = t->grad_a, *other = t->grad_b;
    double loss = loss_of(t, labels, B, correct, cur, &start, &skip_act);
    if (!isfinite(loss)) return loss;
    /* Zero the gradients of the layers that accumulate into them. */
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        for (int j = 0; j < L->n_trainable && !L->sets_grads; j++)
            if (L->size[j]) memset(L->grad[j], 0, sizeof(float) * L->size[j]);
    }
    layer_run r = run_of(t, B, 1, step);
    if (t->graph) {
        backward_graph(t, &r, start, skip_act);
        return loss;
    }
    /* Gradients flow back to the first layer with weights and stop there:
     * its input's gradient (dx = dz·Wᵀ, a GEMM as large as its forward) and
     * the layers before it (Flatten, a Dropout on the input) serve nothing. */
    int first = 1;
    while (first < start && t->layers[first].n_trainable == 0) first++;
    for (int k = start; k >= first; k--) {
        trial_layer *L = &t->layers[k];
        float *dx = k > first ? other : NULL;
        r.skip_act = k == start && skip_act;
        if (L->ops->backward(L, &r, t->layers[k - 1].out, cur, dx)) {
            float *tmp = cur;
            cur = other;
            other = tmp;
        }
    }
    return loss;
}
