/* optim.c: SGD, Adam, AdamW and RMSprop as flat loops over the whole
 * parameter buffer (see optim.h for the formulas, Keras 3's).
 *
 * Each variant is its own loop with everything step-dependent (bias
 * corrections, products of hyperparameters) hoisted out, and restrict
 * pointers, so GCC emits AVX-512 code with vsqrtps (-fno-math-errno keeps
 * sqrtf a single instruction).  Denormal flushing is the caller's business
 * (blas_flush_denormals): Adam's v decays into denormals and without FTZ/DAZ
 * the step is several times slower. */
#include "runtime/nn/optim.h"

#include <math.h>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("vect-cost-model=dynamic")
#endif

void optim_defaults(optim_config *cfg, optim_kind kind)
{
    *cfg = (optim_config){ .kind = kind, .learning_rate = 0.001f, .beta_1 = 0.9f, .beta_2 = 0.999f,
                           .epsilon = 1e-7f, .rho = 0.9f };
    if (kind == OPTIM_SGD) cfg->learning_rate = 0.01f;
    if (kind == OPTIM_ADAMW) cfg->weight_decay = 0.004f;
}

size_t optim_state_floats(const optim_config *cfg, size_t n)
{
    switch (cfg->kind) {
    case OPTIM_SGD: return cfg->momentum != 0.0f ? n : 0;
    case OPTIM_ADAM:
    case OPTIM_ADAMW: return 2 * n;
    case OPTIM_RMSPROP: return n * (1 + (cfg->momentum > 0.0f) + (cfg->centered != 0));
    }
    return 0;
}

static void decay(float *restrict w, size_t n, float k)
{
    for (size_t i = 0; i < n; i++) w[i] -= w[i] * k;
}

static void sgd(float *restrict w, const float *restrict g, size_t n, float lr)
{
    for (size_t i = 0; i < n; i++) w[i] -= lr * g[i];
}

static void sgd_momentum(float *restrict w, const float *restrict g, float *restrict m, size_t n,
                         float lr, float mu, int nesterov)
{
    if (nesterov)
        for (size_t i = 0; i < n; i++) {
            float mi = mu * m[i] - lr * g[i];
            m[i] = mi;
            w[i] += mu * mi - lr * g[i];
        }
    else
        for (size_t i = 0; i < n; i++) {
            float mi = mu * m[i] - lr * g[i];
            m[i] = mi;
            w[i] += mi;
        }
}

static void adam(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                 size_t n, float alpha, float c1, float c2, float eps)
{
    for (size_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * c1;
        float vi = v[i] + (gi * gi - v[i]) * c2;
        m[i] = mi;
        v[i] = vi;
        w[i] -= alpha * mi / (sqrtf(vi) + eps);
    }
}

static void rmsprop(float *restrict w, const float *restrict g, float *restrict v,
                    float *restrict m, float *restrict a, size_t n,
                    float lr, float rho, float mu, float eps)
{
    const float c = 1.0f - rho;
    if (!m && !a)
        for (size_t i = 0; i < n; i++) {
            float vi = rho * v[i] + c * g[i] * g[i];
            v[i] = vi;
            w[i] -= lr * g[i] / sqrtf(vi + eps);
        }
    else if (!a)
        for (size_t i = 0; i < n; i++) {
            float vi = rho * v[i] + c * g[i] * g[i];
            v[i] = vi;
            float mi = mu * m[i] + lr * g[i] / sqrtf(vi + eps);
            m[i] = mi;
            w[i] -= mi;
        }
    else
        for (size_t i = 0; i < n; i++) {
            float vi = rho * v[i] + c * g[i] * g[i];
            float ai = rho * a[i] + c * g[i];
            v[i] = vi;
            a[i] = ai;
            float inc = lr * g[i] / sqrtf(vi - ai * ai + eps);
            if (m) {
                inc += mu * m[i];
                m[i] = inc;
            }
            w[i] -= inc;
        }
}

optim_scalars optim_prepare(const optim_config *cfg, long step)
{
    optim_scalars k = { .step = step };
    if (cfg->kind == OPTIM_ADAM || cfg->kind == OPTIM_ADAMW) {
        double t = step > 0 ? (double)step : 1.0;
        k.alpha = (float)(cfg->learning_rate * sqrt(1.0 - pow(cfg->beta_2, t)) / (1.0 - pow(cfg->beta_1, t)));
    }
    return k;
}

void optim_update(const optim_config *cfg, const optim_scalars *k, float *params, const float *grads, float *state,
                  size_t n, size_t lo, size_t hi)
{
    const float lr = cfg->learning_rate;
    float *w = params + lo;
    const float *g = grads + lo;
    size_t len = hi - lo;
    if (cfg->weight_decay > 0.0f) decay(w, len, lr * cfg->weight_decay);
    switch (cfg->kind) {
    case OPTIM_SGD:
        if (cfg->momentum != 0.0f)
            sgd_momentum(w, g, state + lo, len, lr, cfg->momentum, cfg->nesterov);
        else
            sgd(w, g, len, lr);
        break;
    case OPTIM_ADAM:
    case OPTIM_ADAMW:
        adam(w, g, state + lo, state + n + lo, len, k->alpha, 1.0f - cfg->beta_1, 1.0f - cfg->beta_2, cfg->epsilon);
        break;
    case OPTIM_RMSPROP: {
        float *m = cfg->momentum > 0.0f ? state + n + lo : NULL;
        float *a = cfg->centered ? state + n * (1 + (m != NULL)) + lo : NULL;
        rmsprop(w, g, state + lo, m, a, len, lr, cfg->rho, cfg->momentum, cfg->epsilon);
        break;
    }
    }
}

double optim_schedule_at(const optim_schedule *s, long step)
{
    double x = step < 0 ? 0 : (double)step;
    switch (s->kind) {
    case OPTIM_COSINE_DECAY: {
        double f = (x < s->decay_steps ? x : s->decay_steps) / s->decay_steps;
        return s->initial * ((1 - s->alpha) * 0.5 * (1 + cos(M_PI * f)) + s->alpha);
    }
    case OPTIM_EXPONENTIAL_DECAY: {
        double p = x / s->decay_steps;
        return s->initial * pow(s->decay_rate, s->staircase ? floor(p) : p);
    }
    case OPTIM_PIECEWISE_CONSTANT: {
        int i = 0;
        while (i < s->n_boundaries && x > s->boundaries[i]) i++;
        return s->values[i];
    }
    case OPTIM_CONSTANT: break;
    }
    return s->initial;
}

void optim_step(const optim_config *cfg, float *params, const float *grads, float *state,
                size_t n, long step)
{
    optim_scalars k = optim_prepare(cfg, step);
    optim_update(cfg, &k, params, grads, state, n, 0, n);
}
