/* losses.c: binary cross-entropy, mean absolute error and Huber (see
 * losses.h).  Plain loops: next to the model's GEMMs these are noise. */
#include "runtime/nn/losses.h"

#include <math.h>
#include <stddef.h>

double loss_bce_logits(const float *x, const float *y, float *dx, int B, int K)
{
    size_t n = (size_t)B * K;
    double total = 0, scale = n ? 1.0 / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        double xi = x[i], yi = y[i];
        total += (xi > 0 ? xi : 0) - xi * yi + log1p(exp(-fabs(xi)));
        if (dx) {
            double sig = xi >= 0 ? 1.0 / (1.0 + exp(-xi)) : exp(xi) / (1.0 + exp(xi));
            dx[i] = (float)((sig - yi) * scale);
        }
    }
    return total * scale;
}

double loss_bce_probs(const float *p, const float *y, float *dp, int B, int K)
{
    const double eps = 1e-7;
    size_t n = (size_t)B * K;
    double total = 0, scale = n ? 1.0 / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        double pi = p[i], yi = y[i];
        int clipped = !(pi >= eps && pi <= 1 - eps);
        if (clipped) pi = pi < eps || isnan(pi) ? eps : 1 - eps;
        total -= yi * log(pi) + (1 - yi) * log(1 - pi);
        if (dp) dp[i] = clipped ? 0.0f : (float)((-(yi / pi) + (1 - yi) / (1 - pi)) * scale);
    }
    return total * scale;
}

double loss_mae(const float *p, const float *y, float *dp, int B, int K)
{
    size_t n = (size_t)B * K;
    double total = 0, scale = n ? 1.0 / (double)n : 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - y[i];
        total += fabs(d);
        if (dp) dp[i] = (float)((d > 0) - (d < 0)) * (float)scale;
    }
    return total * scale;
}

double loss_huber(const float *p, const float *y, float *dp, int B, int K, float delta)
{
    size_t n = (size_t)B * K;
    double total = 0, scale = n ? 1.0 / (double)n : 0, dl = delta;
    for (size_t i = 0; i < n; i++) {
        double d = (double)p[i] - y[i], a = fabs(d);
        total += a <= dl ? 0.5 * d * d : dl * a - 0.5 * dl * dl;
        if (dp) dp[i] = (float)((a <= dl ? d : (d > 0 ? dl : -dl)) * scale);
    }
    return total * scale;
}
