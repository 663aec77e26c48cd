/* trial.c: expanding a trial and running its steps (see trial.h).
 *
 * Layer 0 is always the Input, whose output is the input buffer.  A layer's
 * `out` pointer is set by each forward: its own buffer, or the input's for
 * layers that are views (Flatten always, Dropout at inference), so a view
 * costs nothing.  Backward walks from the loss down, ping-ponging the
 * gradient between two buffers sized for the largest activation; kernels
 * that may work in place (activation, dropout, flatten) leave it where it is.
 *
 * Softmax + cross-entropy are fused: when the last layer ends in a softmax,
 * the loss reads its pre-softmax values and backward starts with the logits'
 * gradient, as Keras's TensorFlow backend does.  A cross-entropy on a last
 * layer without activation reads its outputs as logits (what from_logits =
 * True says in Keras); docs/language.md states this. */
#include "runtime/nn/trial.h"
#include "runtime/estimators/estimator.h"
#include "runtime/nn/jit.h"
#include "runtime/rng.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct trial_layer {
    const ir_call *call;
    int id;                     /* ST_Dense, ... */
    int in[3], in_rank, outs[3], out_rank;
    size_t in_size, out_size;   /* per sample */
    kern_act act;
    float rate, momentum, epsilon;
    int kh, kw, sh, sw, same;   /* Conv2D and pooling */
    size_t w, b, n_w, n_b;      /* offsets into params; n_b 0 without bias */
    size_t stats;               /* BatchNormalization: moving mean, then variance */
    float *y, *z;               /* (max_batch, out_size); z only when needed */
    float *out;                 /* this forward's output: y, or a view */
    float *scratch;             /* im2col block / BN state */
    int32_t *argmax;
    double flops;               /* forward, per sample */
    int drop_fused;             /* JIT: the previous layer's epilogue writes this Dropout's output */
};

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
    optim_config opt;
    trial_loss_kind loss;
    int K;
    int fused;                  /* last layer's softmax fused into the loss */
    int probs;                  /* cross-entropy from probabilities */
    uint64_t seed;
    int last_B;
    const jit_code *jit;        /* NULL: the BLAS backend's kernels */
    const ir_call *est;         /* an estimator trial: the estimator, instead of a network */
    hpt_value *est_args;        /* its evaluated arguments */
    est_model *fitted;          /* set by train_fit */
};

static kern_act act_of(hpt_value v)
{
    if (v.type != V_STRING) return KERN_LINEAR;
    const st_entry *e = st_find(ST_ACTIVATION, v.u.s);
    switch (e ? e->id : ST_linear) {
    case ST_relu: return KERN_RELU;
    case ST_tanh: return KERN_TANH;
    case ST_sigmoid: return KERN_SIGMOID;
    case ST_gelu: return KERN_GELU;
    case ST_softmax: return KERN_SOFTMAX;
    default: return KERN_LINEAR;
    }
}

static void *aligned_floats(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
    void *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes ? bytes : 64);
    return p;
}

/* Optimizer settings from compile(optimizer = ...): an object or a name. */
static void optimizer_of(hpt_value v, optim_config *cfg)
{
    const st_entry *e = v.type == V_OBJECT ? v.u.object.entry : st_find(ST_OPTIMIZER, v.type == V_STRING ? v.u.s : "rmsprop");
    const hpt_value *a = v.type == V_OBJECT ? v.u.object.args : NULL;
#define ARG(name, dflt) (a ? (float)value_as_double(a[name]) : (dflt))
    switch (e ? e->id : ST_RMSprop) {
    case ST_SGD:
        optim_defaults(cfg, OPTIM_SGD);
        cfg->learning_rate = ARG(SGD_learning_rate, 0.01f);
        cfg->momentum = ARG(SGD_momentum, 0.0f);
        cfg->nesterov = a ? a[SGD_nesterov].u.b : 0;
        break;
    case ST_Adam:
        optim_defaults(cfg, OPTIM_ADAM);
        cfg->learning_rate = ARG(Adam_learning_rate, 1e-3f);
        cfg->beta_1 = ARG(Adam_beta_1, 0.9f);
        cfg->beta_2 = ARG(Adam_beta_2, 0.999f);
        cfg->epsilon = ARG(Adam_epsilon, 1e-7f);
        break;
    case ST_AdamW:
        optim_defaults(cfg, OPTIM_ADAMW);
        cfg->learning_rate = ARG(AdamW_learning_rate, 1e-3f);
        cfg->weight_decay = ARG(AdamW_weight_decay, 0.004f);
        cfg->beta_1 = ARG(AdamW_beta_1, 0.9f);
        cfg->beta_2 = ARG(AdamW_beta_2, 0.999f);
        cfg->epsilon = ARG(AdamW_epsilon, 1e-7f);
        break;
    default:
        optim_defaults(cfg, OPTIM_RMSPROP);
        cfg->learning_rate = ARG(RMSprop_learning_rate, 1e-3f);
        cfg->rho = ARG(RMSprop_rho, 0.9f);
        cfg->momentum = ARG(RMSprop_momentum, 0.0f);
        cfg->epsilon = ARG(RMSprop_epsilon, 1e-7f);
    }
#undef ARG
}

static const st_entry *loss_entry(hpt_value v, int *from_logits)
{
    *from_logits = 0;
    if (v.type == V_OBJECT) {
        const st_entry *e = v.u.object.entry;
        if (e->id != ST_MeanSquaredError) *from_logits = v.u.object.args[0].u.b;
        return e;
    }
    return st_find(ST_LOSS, v.type == V_STRING ? v.u.s : "");
}

/* Keras's initialisers; normal ones are truncated at two standard deviations. */
static void init_kernel(float *w, size_t n, int fan_in, int fan_out, const char *how, uint64_t key)
{
    if (!strcmp(how, "glorot_uniform")) {
        kern_glorot_uniform(w, n, fan_in, fan_out, key);
        return;
    }
    if (!strcmp(how, "he_uniform")) {
        double limit = sqrt(6.0 / fan_in);
        for (size_t i = 0; i < n; i++) w[i] = (float)((2.0 * ((rng_at(key, i) >> 11) * 0x1p-53) - 1.0) * limit);
        return;
    }
    double var = !strcmp(how, "glorot_normal") ? 2.0 / (fan_in + fan_out) : !strcmp(how, "he_normal") ? 2.0 / fan_in : 1.0 / fan_in;
    double stddev = sqrt(var) / 0.87962566103423978;   /* Keras's correction for the truncation */
    rng r = rng_stream(key);
    for (size_t i = 0; i < n; i++) {
        double x;
        do x = rng_normal(&r);
        while (fabs(x) > 2.0);
        w[i] = (float)(x * stddev);
    }
}

static int plan_layer(trial *t, trial_layer *L, const hpt_value *args, hpt_error *e)
{
    const char *name = L->call->name;
    switch (L->id) {
    case ST_Dense:
        L->act = act_of(args[Dense_activation]);
        L->n_w = L->in_size * L->out_size;
        L->n_b = args[Dense_use_bias].u.b ? L->out_size : 0;
        L->flops = 2.0 * (double)L->n_w;
        break;
    case ST_Conv2D: {
        L->act = act_of(args[Conv2D_activation]);
        st_pair(args[Conv2D_kernel_size], &L->kh, &L->kw);
        st_pair(args[Conv2D_strides], &L->sh, &L->sw);
        L->same = !strcmp(args[Conv2D_padding].u.s, "same");
        int C = L->in_rank == 3 ? L->in[2] : 1;
        L->n_w = (size_t)L->kh * L->kw * C * L->outs[2];
        L->n_b = args[Conv2D_use_bias].u.b ? (size_t)L->outs[2] : 0;
        L->flops = 2.0 * L->outs[0] * L->outs[1] * (double)L->n_w;
        break;
    }
    case ST_MaxPooling2D:
    case ST_AveragePooling2D:
        st_pair(args[MaxPooling2D_pool_size], &L->kh, &L->kw);
        if (args[MaxPooling2D_strides].type == V_NONE) L->sh = L->kh, L->sw = L->kw;
        else st_pair(args[MaxPooling2D_strides], &L->sh, &L->sw);
        L->same = !strcmp(args[MaxPooling2D_padding].u.s, "same");
        L->flops = (double)L->out_size * L->kh * L->kw;
        break;
    case ST_BatchNormalization: {
        int C = L->in[L->in_rank - 1];
        L->momentum = (float)value_as_double(args[BatchNormalization_momentum]);
        L->epsilon = (float)value_as_double(args[BatchNormalization_epsilon]);
        L->n_w = L->n_b = (size_t)C;    /* gamma, beta */
        L->flops = 4.0 * (double)L->out_size;
        break;
    }
    case ST_Dropout:
        L->rate = (float)value_as_double(args[Dropout_rate]);
        break;
    case ST_Activation:
        L->act = act_of(args[Activation_activation]);
        L->flops = (double)L->out_size;
        break;
    case ST_Flatten:
    case ST_Input:
        break;
    default:
        return hpt_fail(e, "layer %s: %s has no kernels in this runtime", name, L->call->entry->name);
    }
    (void)t;
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

    /* Shapes and sizes of every present layer. */
    int in[3] = { 0 }, in_rank = 0;
    for (int k = 0; k < p->n_layers; k++) {
        const ir_call *c = &p->layers[k];
        if (!ir_holds(p, c->guard, &a)) continue;
        trial_layer *L = &t->layers[t->n];
        L->call = c;
        L->id = c->entry->id;
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
        int out[4], out_rank;
        if (st_layer_plan(c->entry, args, in, in_rank, out, &out_rank, NULL, why, sizeof why)) {
            hpt_fail(e, "%s: layer %s (line %d): %s", p->file, c->name, ir_line_of(p, c->span.start), why);
            goto fail;
        }
        memcpy(L->in, in, sizeof L->in);
        L->in_rank = in_rank;
        memcpy(L->outs, out, sizeof L->outs);
        L->out_rank = out_rank;
        L->in_size = L->out_size = 1;
        for (int j = 0; j < in_rank; j++) L->in_size *= (size_t)in[j];
        for (int j = 0; j < out_rank; j++) L->out_size *= (size_t)out[j];
        if (plan_layer(t, L, args, e)) goto fail;
        memcpy(in, out, sizeof in);
        in_rank = out_rank;
        t->n++;
    }
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
    t->loss = !loss || loss->id == ST_SparseCategoricalCrossentropy ? LOSS_SPARSE_CE
            : loss->id == ST_CategoricalCrossentropy ? LOSS_CE : LOSS_MSE;
    if (t->loss != LOSS_MSE && !from_logits) {
        if (last->act == KERN_SOFTMAX) t->fused = 1;
        else if (last->act != KERN_LINEAR || last->id == ST_Activation) t->probs = last->act != KERN_LINEAR;
    }
    optimizer_of(t->compile_args[compile_optimizer], &t->opt);

    /* Parameters: every trainable tensor, then the moving statistics. */
    size_t off = 0;
    for (int k = 0; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        L->w = off, off += L->n_w;
        L->b = off, off += L->n_b;
    }
    t->n_params = off;
    for (int k = 0; k < t->n; k++)
        if (t->layers[k].id == ST_BatchNormalization) t->layers[k].stats = off, off += 2 * t->layers[k].n_w;
    t->n_stats = off - t->n_params;
    t->n_opt = optim_state_floats(&t->opt, t->n_params);
    if (max_batch == 0) return t;   /* planned only: sizes and shapes, no buffers */

    /* The activation arena: input, every y (and z), two gradient buffers, scratch. */
    size_t B = (size_t)max_batch, max_act = t->layers[0].out_size, need = 0;
    size_t in_floats = B * t->layers[0].out_size;
    need += (in_floats + 15) & ~(size_t)15;
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        if (L->out_size > max_act) max_act = L->out_size;
        size_t act = (B * L->out_size + 15) & ~(size_t)15;
        if (L->id != ST_Flatten) need += act;
        if (kern_act_needs_z(L->act) || (k == t->n - 1 && t->fused && L->id != ST_Activation)) need += act;
        if (L->id == ST_Conv2D) {
            kern_geom g;
            kern_conv_geom(&g, max_batch, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->outs[2], L->kh, L->kw, L->sh, L->sw, L->same);
            need += (kern_conv2d_scratch_floats(&g) + 15) & ~(size_t)15;
        }
        if (L->id == ST_MaxPooling2D) need += (B * L->out_size + 15) & ~(size_t)15;
        if (L->id == ST_BatchNormalization) need += (kern_batchnorm_scratch_floats((int)L->n_w) + 15) & ~(size_t)15;
    }
    size_t grad = (B * max_act + 15) & ~(size_t)15;
    need += 2 * grad + ((B * (size_t)t->K + 15) & ~(size_t)15);
    t->n_arena = need;

    t->params = aligned_floats(t->n_params + t->n_stats);
    t->grads = aligned_floats(t->n_params);
    t->opt_state = aligned_floats(t->n_opt);
    t->block = aligned_floats(need);
    if (!t->params || !t->grads || !t->opt_state || !t->block) {
        hpt_fail(e, "%s: cannot allocate %.1f MB for the trial", p->file,
                 (double)(2 * t->n_params + t->n_stats + t->n_opt + need) * 4 / 1e6);
        goto fail;
    }
    float *cur = t->block;
#define TAKE(n) (cur += (((n) + 15) & ~(size_t)15), cur - (((n) + 15) & ~(size_t)15))
    t->input = TAKE(in_floats);
    t->layers[0].y = t->layers[0].out = t->input;
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        if (L->id != ST_Flatten) L->y = TAKE(B * L->out_size);
        if (kern_act_needs_z(L->act) || (k == t->n - 1 && t->fused && L->id != ST_Activation)) L->z = TAKE(B * L->out_size);
        if (L->id == ST_Conv2D) {
            kern_geom g;
            kern_conv_geom(&g, max_batch, L->in[0], L->in[1], L->in_rank == 3 ? L->in[2] : 1, L->outs[2], L->kh, L->kw, L->sh, L->sw, L->same);
            L->scratch = TAKE(kern_conv2d_scratch_floats(&g));
        }
        if (L->id == ST_MaxPooling2D) L->argmax = (int32_t *)TAKE(B * L->out_size);
        if (L->id == ST_BatchNormalization) L->scratch = TAKE(kern_batchnorm_scratch_floats((int)L->n_w));
    }
    t->grad_a = TAKE(B * max_act);
    t->grad_b = TAKE(B * max_act);
    t->target = TAKE(B * (size_t)t->K);
#undef TAKE

    /* Keras's initial weights: glorot_uniform kernels, zero biases, BN gamma 1 and variance 1. */
    uint64_t init_key = rng_key(seed, RNG_INIT);
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        if (L->id == ST_Dense || L->id == ST_Conv2D) {
            /* Dense (in, out); Conv2D (kh, kw, C, F): fan_in = kh*kw*C, fan_out = kh*kw*F. */
            int fan_in = L->id == ST_Conv2D ? (int)(L->n_w / (size_t)L->outs[2]) : (int)L->in_size;
            int fan_out = L->id == ST_Conv2D ? L->kh * L->kw * L->outs[2] : (int)L->out_size;
            hpt_value how_v = value_string("glorot_uniform");
            ir_eval(p, L->call->args[L->id == ST_Dense ? Dense_kernel_initializer : Conv2D_kernel_initializer],
                    &a, &t->arena, &how_v, why, sizeof why);
            init_kernel(t->params + L->w, L->n_w, fan_in, fan_out, how_v.u.s, rng_key(init_key, (uint64_t)k));
        } else if (L->id == ST_BatchNormalization) {
            kern_ones(t->params + L->w, L->n_w);
            kern_ones(t->params + L->stats + L->n_w, L->n_w);
        }
    }
    return t;
oom:
    hpt_fail(e, "out of memory expanding a trial");
fail:
    trial_free(t);
    return NULL;
}

void trial_free(trial *t)
{
    if (!t) return;
    est_free(t->fitted);
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

float *trial_weights(trial *t, size_t *n)
{
    *n = t->n_params + t->n_stats;
    return t->params;
}

float *trial_optimizer_state(trial *t, size_t *n)
{
    *n = t->n_opt;
    return t->opt_state;
}

void trial_reset_optimizer(trial *t) { memset(t->opt_state, 0, t->n_opt * sizeof(float)); }

/* What the JIT generates for this trial: Dense and Activation epilogues
 * (with a following Dropout fused in), Conv2D's backward chain (its forward
 * epilogue already runs per im2col chunk, in cache), BatchNormalization, the
 * fused sparse cross-entropy and the optimizer.  layers has t->n slots. */
static void jit_spec_of(const trial *t, jit_layer *layers, jit_spec *s)
{
    memset(layers, 0, sizeof *layers * (size_t)t->n);
    for (int k = 1; k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
        jit_layer *J = &layers[k];
        const trial_layer *next = k + 1 < t->n ? &t->layers[k + 1] : NULL;
        if (L->id == ST_Dense || L->id == ST_Activation || L->id == ST_Conv2D) {
            J->kind = JIT_ELEMENTWISE;
            J->cols = L->outs[L->out_rank - 1];
            J->act = L->act;
            J->bwd_act = k == t->n - 1 && t->fused ? KERN_LINEAR : L->act;
            J->bias = L->n_b > 0;
            J->keep_z = L->id != ST_Activation && L->z != NULL;
            J->forward = L->id != ST_Conv2D;
            J->dropout = J->forward && next && next->id == ST_Dropout && next->rate > 0;
        } else if (L->id == ST_BatchNormalization) {
            J->kind = JIT_BATCHNORM;
            J->cols = (int)L->n_w;
        }
    }
    *s = (jit_spec){ layers, t->n, t->loss == LOSS_SPARSE_CE && !t->probs ? t->K : 0, t->opt, t->n_params };
}

int trial_set_backend(trial *t, int jit, hpt_error *e)
{
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
    fprintf(out, "%-22s %-20s %-18s %10s\n", "layer", "type", "output shape", "params");
    for (int k = 0; k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
        char shape[64] = "(None";
        for (int j = 0; j < L->out_rank; j++) snprintf(shape + strlen(shape), sizeof shape - strlen(shape), ", %d", L->outs[j]);
        strcat(shape, ")");
        fprintf(out, "%-22s %-20s %-18s %10zu\n", L->call->name, L->call->entry->name, shape,
                L->n_w + L->n_b + (L->id == ST_BatchNormalization ? 2 * L->n_w : 0));
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
    if (L->n_w + L->n_b || n_model_args || L->in_rank != L->out_rank) return 0;
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
    for (int k = 0; args && k < t->n; k++) {
        const trial_layer *L = &t->layers[k];
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
        fprintf(m, " params=%zu", L->n_w + L->n_b + (L->id == ST_BatchNormalization ? 2 * L->n_w : 0));
        fclose(m);
        if (line && !identity_at_inference(L, n_args))
            fprintf(out, "layer%s%s %s%s\n", with_names ? " " : "", with_names ? L->call->name : "",
                    L->call->entry->name, line);
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

static void geom_of(const trial_layer *L, int B, kern_geom *g)
{
    int C = L->in_rank == 3 ? L->in[2] : 1;
    if (L->id == ST_Conv2D) kern_conv_geom(g, B, L->in[0], L->in[1], C, L->outs[2], L->kh, L->kw, L->sh, L->sw, L->same);
    else kern_pool_geom(g, B, L->in[0], L->in[1], C, L->kh, L->kw, L->sh, L->sw, L->same);
}

/* Softmax normalises the last axis; the other activations are elementwise. */
static int act_cols(const trial_layer *L)
{
    return L->act == KERN_SOFTMAX ? L->outs[L->out_rank - 1] : (int)L->out_size;
}

static uint64_t dropout_key(const trial *t, long step, int layer)
{
    return rng_key(rng_key(t->seed, RNG_DROPOUT), (uint64_t)step * 1024 + (uint64_t)layer);
}

const float *trial_forward(trial *t, int B, int training, long step)
{
    t->last_B = B;
    for (int k = 1; k < t->n; k++) {
        trial_layer *L = &t->layers[k];
        const float *x = t->layers[k - 1].out;
        float *P = t->params;
        kern_geom g;
        L->out = L->y;
        switch (L->id) {
        case ST_Flatten:
            L->out = (float *)x;
            break;
        case ST_Dense:
            if (t->jit) {
                /* With a Dropout fused in, this epilogue writes its output too. */
                int drop = training && k + 1 < t->n && t->layers[k + 1].drop_fused;
                jit_dense_forward(t->jit, k, x, P + L->w, L->n_b ? P + L->b : NULL, L->y, L->z,
                                  drop ? t->layers[k + 1].y : NULL, B, (int)L->in_size, (int)L->out_size,
                                  drop ? t->layers[k + 1].rate : 0, dropout_key(t, step, k + 1));
                break;
            }
            kern_dense_forward(x, P + L->w, L->n_b ? P + L->b : NULL, L->y, L->z, B, (int)L->in_size,
                               (int)L->out_size, L->act);
            break;
        case ST_Conv2D:
            geom_of(L, B, &g);
            kern_conv2d_forward(&g, x, P + L->w, L->n_b ? P + L->b : NULL, L->y, L->z, L->act, L->scratch);
            break;
        case ST_MaxPooling2D:
            geom_of(L, B, &g);
            kern_maxpool2d_forward(&g, x, L->y, L->argmax);
            break;
        case ST_AveragePooling2D:
            geom_of(L, B, &g);
            kern_avgpool2d_forward(&g, x, L->y);
            break;
        case ST_BatchNormalization: {
            size_t N = (size_t)B * (L->out_size / L->n_w);
            if (training && t->jit)
                jit_batchnorm_forward_train(t->jit, k, x, L->y, P + L->w, P + L->b, P + L->stats,
                                            P + L->stats + L->n_w, N, L->momentum, L->epsilon, L->scratch);
            else if (training)
                kern_batchnorm_forward_train(x, L->y, P + L->w, P + L->b, P + L->stats, P + L->stats + L->n_w, N,
                                             (int)L->n_w, L->momentum, L->epsilon, L->scratch);
            else
                kern_batchnorm_forward_infer(x, L->y, P + L->w, P + L->b, P + L->stats, P + L->stats + L->n_w, N,
                                             (int)L->n_w, L->epsilon);
            break;
        }
        case ST_Dropout:
            if (training && L->rate > 0 && L->drop_fused) break;
            if (training && L->rate > 0) kern_dropout_forward(x, L->y, (size_t)B * L->out_size, L->rate, dropout_key(t, step, k));
            else L->out = (float *)x;
            break;
        case ST_Activation: {
            if (t->jit) {
                int drop = training && k + 1 < t->n && t->layers[k + 1].drop_fused;
                jit_forward(t->jit, k, x, L->y, NULL, NULL, (size_t)B * (L->out_size / (size_t)L->outs[L->out_rank - 1]),
                            drop ? t->layers[k + 1].y : NULL, drop ? t->layers[k + 1].rate : 0,
                            dropout_key(t, step, k + 1));
                break;
            }
            int cols = act_cols(L);
            kern_act_forward(x, L->y, (size_t)B * (L->out_size / (size_t)cols), cols, L->act);
            break;
        }
        }
    }
    return t->layers[t->n - 1].out;
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
        if (last->id == ST_Activation) logits = t->layers[t->n - 2].out, *start = t->n - 2;
        else logits = last->z, *skip_act = 1;
    }
    double loss;
    int K = t->K;
    if (t->loss == LOSS_MSE) {
        memset(t->target, 0, sizeof(float) * (size_t)B * K);
        for (int i = 0; i < B; i++)
            if (labels[i] >= 0 && labels[i] < K) t->target[(size_t)i * K + labels[i]] = 1;
        loss = kern_mse(scores, t->target, grad, B, K);
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

double trial_train_step(trial *t, const int32_t *labels, int B, long step, int *correct)
{
    double loss = trial_compute_gradients(t, labels, B, step, correct);
    if (isfinite(loss) && t->jit && t->n_params)
        jit_optim_step(t->jit, &t->opt, t->params, t->grads, t->opt_state, step + 1);
    else if (isfinite(loss))
        optim_step(&t->opt, t->params, t->grads, t->opt_state, t->n_params, step + 1);
    return loss;
}

float *trial_gradients(trial *t, size_t *n)
{
    *n = t->n_params;
    return t->grads;
}

double trial_compute_gradients(trial *t, const int32_t *labels, int B, long step, int *correct)
{
    trial_forward(t, B, 1, step);
    int start, skip_act;
    float *cur = t->grad_a, *other = t->grad_b;
    double loss = loss_of(t, labels, B, correct, cur, &start, &skip_act);
    if (!isfinite(loss)) return loss;
    memset(t->grads, 0, sizeof(float) * t->n_params);
    float *P = t->params, *G = t->grads;
    for (int k = start; k >= 1; k--) {
        trial_layer *L = &t->layers[k];
        const float *x = t->layers[k - 1].out;
        /* The input needs no gradient: skip the first layer's dx. */
        float *dx = k > 1 ? other : NULL;
        kern_act act = k == start && skip_act ? KERN_LINEAR : L->act;
        kern_geom g;
        int swap = 1;
        /* A Dropout fused into this layer: its mask is part of the JIT's backward chain. */
        int drop = t->jit && k + 1 < t->n && t->layers[k + 1].drop_fused;
        float rate = drop ? t->layers[k + 1].rate : 0;
        switch (L->id) {
        case ST_Flatten:
            swap = 0;
            break;
        case ST_Dense:
            if (t->jit) {
                jit_dense_backward(t->jit, k, x, P + L->w, L->out, L->z, cur, dx, G + L->w, L->n_b ? G + L->b : NULL, B,
                                   (int)L->in_size, (int)L->out_size, rate, dropout_key(t, step, k + 1));
                break;
            }
            kern_dense_backward(x, P + L->w, L->out, L->z, cur, dx, G + L->w, L->n_b ? G + L->b : NULL, B,
                                (int)L->in_size, (int)L->out_size, act);
            break;
        case ST_Conv2D:
            geom_of(L, B, &g);
            if (t->jit) {
                /* The JIT's chain makes dz and db; the BLAS kernel does the GEMMs. */
                jit_backward(t->jit, k, L->out, L->z, cur, L->n_b ? G + L->b : NULL, (size_t)B * g.OH * g.OW, 0, 0);
                kern_conv2d_backward(&g, x, P + L->w, L->out, L->z, cur, dx, G + L->w, NULL, KERN_LINEAR, L->scratch);
                break;
            }
            kern_conv2d_backward(&g, x, P + L->w, L->out, L->z, cur, dx, G + L->w, L->n_b ? G + L->b : NULL, act,
                                 L->scratch);
            break;
        case ST_MaxPooling2D:
            geom_of(L, B, &g);
            if (dx) kern_maxpool2d_backward(&g, cur, dx, L->argmax);
            break;
        case ST_AveragePooling2D:
            geom_of(L, B, &g);
            if (dx) kern_avgpool2d_backward(&g, cur, dx);
            break;
        case ST_BatchNormalization:
            if (t->jit) {
                jit_batchnorm_backward(t->jit, k, x, cur, dx, P + L->w, G + L->w, G + L->b,
                                       (size_t)B * (L->out_size / L->n_w), L->scratch);
                break;
            }
            kern_batchnorm_backward(x, cur, dx, P + L->w, G + L->w, G + L->b, (size_t)B * (L->out_size / L->n_w),
                                    (int)L->n_w, L->scratch);
            break;
        case ST_Dropout:
            if (L->rate > 0 && !L->drop_fused) kern_dropout_backward(cur, cur, (size_t)B * L->out_size, L->rate, dropout_key(t, step, k));
            swap = 0;
            break;
        case ST_Activation:
            if (t->jit)
                jit_backward(t->jit, k, L->out, x, cur, NULL, (size_t)B * (L->out_size / (size_t)L->outs[L->out_rank - 1]),
                             rate, dropout_key(t, step, k + 1));
            else
                kern_act_backward(x, L->out, cur, cur, (size_t)B * (L->out_size / (size_t)act_cols(L)), act_cols(L), act);
            swap = 0;
            break;
        }
        if (swap) {
            float *tmp = cur;
            cur = other;
            other = tmp;
        }
    }
    return loss;
}
