/* test_optim.c: the optimizers against Keras 3's update rules.
 *
 * Hand-computed first steps (Adam's first step moves each weight by about
 * lr·sign(g); SGD with momentum and Nesterov; RMSprop; AdamW's decay on
 * its own), then several steps over 37 parameters (not a multiple of the
 * vector width, so the loop tails run too) against a reference written
 * out in double from the formulas in optim.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/nn/optim.h"
#include "runtime/rng.h"
#include "tests/unit/check.h"

enum { N = 37, STEPS = 5 };

/* Keras 3's update rules in double, one parameter at a time. */
typedef struct ref_state { double m, v, a; } ref_state;

static void ref_step(const optim_config *c, double *w, double g, ref_state *s, long t)
{
    double lr = c->learning_rate;
    if (c->weight_decay > 0) *w -= *w * (double)c->weight_decay * lr;
    switch (c->kind) {
    case OPTIM_SGD:
        if (c->momentum == 0) {
            *w -= lr * g;
        } else {
            s->m = c->momentum * s->m - lr * g;
            *w += c->nesterov ? c->momentum * s->m - lr * g : s->m;
        }
        break;
    case OPTIM_ADAM:
    case OPTIM_ADAMW: {
        double b1 = c->beta_1, b2 = c->beta_2;
        double alpha = lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
        s->m += (g - s->m) * (1 - b1);
        s->v += (g * g - s->v) * (1 - b2);
        *w -= alpha * s->m / (sqrt(s->v) + c->epsilon);
        break;
    }
    case OPTIM_RMSPROP: {
        double rho = c->rho;
        s->v = rho * s->v + (1 - rho) * g * g;
        double den = s->v + c->epsilon;
        if (c->centered) {
            s->a = rho * s->a + (1 - rho) * g;
            den -= s->a * s->a;
        }
        double inc = lr * g / sqrt(den);
        if (c->momentum > 0) {
            s->m = c->momentum * s->m + inc;
            *w -= s->m;
        } else {
            *w -= inc;
        }
        break;
    }
    }
}

/* STEPS steps of optim_step over N parameters against ref_step, compared
 * on the total change Δw = w - w0 by ||Δw - Δw_ref|| / ||Δw_ref||.  Every
 * third gradient is ~1e-3 smaller, where Adam's and RMSprop's ε matter. */
static void compare(const char *what, const optim_config *c)
{
    float w[N], g[N], *state = calloc(optim_state_floats(c, N) + 1, sizeof(float));
    double rw[N], w0[N];
    ref_state rs[N];
    memset(rs, 0, sizeof rs);
    rng r = rng_stream(7);
    for (int i = 0; i < N; i++) w[i] = (float)(rng_double(&r) * 0.02 - 0.01), rw[i] = w0[i] = w[i];
    for (long t = 1; t <= STEPS; t++) {
        for (int i = 0; i < N; i++) g[i] = (float)((rng_double(&r) * 2 - 1) * (i % 3 ? 1.0 : 1e-3));
        optim_step(c, w, g, state, N, t);
        for (int i = 0; i < N; i++) ref_step(c, &rw[i], g[i], &rs[i], t);
    }
    double d2 = 0, r2 = 0;
    for (int i = 0; i < N; i++) {
        double d = rw[i] - w0[i], got = w[i] - w0[i];
        d2 += (got - d) * (got - d);
        r2 += d * d;
    }
    double rel = sqrt(d2 / r2);
    /* Float w (|w| <= 0.01) loses ~1e-7 of Δw; a wrong formula, > 1e-2. */
    CHECK(rel < 1e-5, "%s: %d steps over %d params match Keras's formulas (rel err of Δw %.2e)",
          what, STEPS, N, rel);
    free(state);
}

static void test_defaults(void)
{
    optim_config c;
    optim_defaults(&c, OPTIM_SGD);
    CHECK(c.learning_rate == 0.01f && c.momentum == 0 && !c.nesterov && c.weight_decay == 0, "SGD defaults");
    optim_defaults(&c, OPTIM_ADAM);
    CHECK(c.learning_rate == 0.001f && c.beta_1 == 0.9f && c.beta_2 == 0.999f && c.epsilon == 1e-7f &&
          c.weight_decay == 0, "Adam defaults");
    CHECK(optim_state_floats(&c, 10) == 20, "Adam keeps m and v");
    optim_defaults(&c, OPTIM_ADAMW);
    CHECK(c.learning_rate == 0.001f && c.weight_decay == 0.004f, "AdamW defaults");
    optim_defaults(&c, OPTIM_RMSPROP);
    CHECK(c.learning_rate == 0.001f && c.rho == 0.9f && c.momentum == 0 && c.epsilon == 1e-7f && !c.centered,
          "RMSprop defaults");
    CHECK(optim_state_floats(&c, 10) == 10, "RMSprop keeps v");
    c.momentum = 0.5f, c.centered = 1;
    CHECK(optim_state_floats(&c, 10) == 30, "centered RMSprop with momentum keeps v, m and a");
    optim_defaults(&c, OPTIM_SGD);
    CHECK(optim_state_floats(&c, 10) == 0, "plain SGD keeps nothing");
}

static void test_hand_values(void)
{
    optim_config c;
    float w[3], g[3], st[6];

    optim_defaults(&c, OPTIM_SGD);
    c.learning_rate = 0.1f;
    w[0] = 1, g[0] = 0.5f;
    optim_step(&c, w, g, NULL, 1, 1);
    CHECK_NEAR(w[0], 0.95, 1e-7, "SGD: 1 - 0.1*0.5");

    c.momentum = 0.9f;
    w[0] = 1, st[0] = 0;
    optim_step(&c, w, g, st, 1, 1);
    CHECK_NEAR(w[0], 0.95, 1e-7, "SGD momentum step 1: m = -0.05");
    optim_step(&c, w, g, st, 1, 2);
    CHECK_NEAR(w[0], 0.855, 2e-7, "SGD momentum step 2: m = 0.9*-0.05 - 0.05 = -0.095");

    c.nesterov = 1;
    w[0] = 1, st[0] = 0;
    optim_step(&c, w, g, st, 1, 1);
    CHECK_NEAR(w[0], 0.905, 1e-7, "SGD nesterov step 1: w += 0.9*-0.05 - 0.05");
    optim_step(&c, w, g, st, 1, 2);
    CHECK_NEAR(w[0], 0.7695, 2e-7, "SGD nesterov step 2: w += 0.9*-0.095 - 0.05");

    /* Adam step 1: m = 0.1g, v = 0.001g², α = lr·sqrt(0.001)/0.1, so
     * Δw = -lr·g/(|g| + ε/sqrt(0.001)) ≈ -lr·sign(g). */
    optim_defaults(&c, OPTIM_ADAM);
    w[0] = 1, w[1] = -2, w[2] = 0.5f;
    g[0] = 0.1f, g[1] = -20, g[2] = 3e-6f;
    memset(st, 0, sizeof st);
    optim_step(&c, w, g, st, 3, 1);
    double k = 1e-7 / sqrt(1 - 0.999);   /* ε relative to |g| after bias correction */
    CHECK_NEAR(w[0] - 1.0, -1e-3 * 0.1 / (0.1 + k), 5e-4, "Adam step 1 moves w by -lr for g = 0.1");
    CHECK_NEAR(w[1] + 2.0, 1e-3, 5e-4, "Adam step 1 moves w by +lr for g = -20");
    CHECK_NEAR(w[2] - 0.5, -1e-3 * 3e-6 / (3e-6 + k), 1e-3, "Adam step 1 for g = 3e-6, where ε halves the step");
    CHECK_NEAR(st[0], 0.01, 1e-6, "Adam m = (1-β1)g");
    /* 1 - β2 in float is 0.00099998713, in Keras too. */
    CHECK_NEAR(st[3], 0.001 * 0.01, 2e-5, "Adam v = (1-β2)g²");

    /* AdamW with zero gradient: only the decoupled decay moves w. */
    optim_defaults(&c, OPTIM_ADAMW);
    c.learning_rate = 0.1f;   /* lr·wd = 4e-4, well above float resolution */
    w[0] = 1, g[0] = 0;
    memset(st, 0, sizeof st);
    optim_step(&c, w, g, st, 1, 1);
    CHECK_NEAR(w[0], 1 - 0.1 * 0.004, 1e-7, "AdamW decay: w -= lr*wd*w");

    /* RMSprop: v = 0.1·0.25, w -= 0.01·0.5/sqrt(v + ε) (ε inside the root). */
    optim_defaults(&c, OPTIM_RMSPROP);
    c.learning_rate = 0.01f;
    w[0] = 1, g[0] = 0.5f, st[0] = 0;
    optim_step(&c, w, g, st, 1, 1);
    CHECK_NEAR(st[0], 0.025, 1e-6, "RMSprop v = (1-rho)g²");
    CHECK_NEAR(w[0], 1 - 0.005 / sqrt(0.025 + 1e-7), 2e-7, "RMSprop step 1");
}

static void test_sequences(void)
{
    optim_config c;
    optim_defaults(&c, OPTIM_SGD);
    compare("SGD", &c);
    c.momentum = 0.9f;
    compare("SGD momentum 0.9", &c);
    c.nesterov = 1;
    compare("SGD nesterov", &c);
    optim_defaults(&c, OPTIM_ADAM);
    compare("Adam", &c);
    c.beta_1 = 0.5f, c.beta_2 = 0.9f, c.epsilon = 1e-3f;
    compare("Adam beta_1 0.5 beta_2 0.9 epsilon 1e-3", &c);
    optim_defaults(&c, OPTIM_ADAMW);
    c.weight_decay = 0.1f;
    compare("AdamW weight_decay 0.1", &c);
    optim_defaults(&c, OPTIM_RMSPROP);
    compare("RMSprop", &c);
    c.momentum = 0.9f;
    compare("RMSprop momentum 0.9", &c);
    c.centered = 1;
    compare("RMSprop centered, momentum 0.9", &c);
    c.momentum = 0;
    compare("RMSprop centered", &c);
    optim_defaults(&c, OPTIM_SGD);
    c.weight_decay = 0.01f;
    compare("SGD with weight_decay 0.01", &c);
}

/* The step in ranges, in any order (what a layer fusing its packing does),
 * is the flat step exactly, for every optimizer and its state layout. */
static void test_ranges(void)
{
    enum { N = 1000 };
    const optim_kind kinds[] = { OPTIM_SGD, OPTIM_ADAM, OPTIM_ADAMW, OPTIM_RMSPROP };
    for (size_t k = 0; k < sizeof kinds / sizeof *kinds; k++) {
        optim_config cfg;
        optim_defaults(&cfg, kinds[k]);
        cfg.momentum = 0.9f;
        cfg.centered = kinds[k] == OPTIM_RMSPROP;
        static float w1[N], w2[N], g[N], s1[3 * N], s2[3 * N];
        for (int i = 0; i < N; i++) w1[i] = w2[i] = 0.01f * (float)(i % 37) - 0.2f;
        memset(s1, 0, sizeof s1), memset(s2, 0, sizeof s2);
        for (long step = 1; step <= 3; step++) {
            for (int i = 0; i < N; i++) g[i] = 0.003f * (float)((i * 7 + step) % 23) - 0.03f;
            optim_step(&cfg, w1, g, s1, N, step);
            optim_scalars sc = optim_prepare(&cfg, step);
            /* Back to front, uneven pieces. */
            optim_update(&cfg, &sc, w2, g, s2, N, 700, N);
            optim_update(&cfg, &sc, w2, g, s2, N, 13, 700);
            optim_update(&cfg, &sc, w2, g, s2, N, 0, 13);
        }
        CHECK(!memcmp(w1, w2, sizeof w1) && !memcmp(s1, s2, sizeof s1),
              "optimizer %zu: the step in three ranges equals the flat step, weights and state bit for bit", k);
    }
}

int main(void)
{
    test_defaults();
    test_hand_values();
    test_sequences();
    test_ranges();
    return check_exit();
}
