/* hyperband.c: see hyperband.h.  Computed in doubles like Keras Tuner's
 * Python (math.log, math.ceil), so both sides round the same way. */
#include "runtime/tune/hyperband.h"

#include <math.h>

static int num_brackets(int max_epochs, int factor)
{
    double epochs = max_epochs;
    int brackets = 0;
    while (epochs >= 1) {
        epochs /= factor;
        brackets++;
    }
    return brackets;
}

int hb_schedule(int max_epochs, int factor, hb_round *out, int cap)
{
    int n = 0;
    double end0 = ceil(1 + log((double)max_epochs) / log((double)factor));
    for (int b = num_brackets(max_epochs, factor) - 1; b >= 0; b--) {
        double end_size = end0 / (b + 1);
        int previous = 0;
        for (int r = 0; r <= b; r++) {
            if (n == cap) return -1;
            double scale = pow((double)factor, (double)(b - r));
            int epochs = (int)ceil(max_epochs / scale);
            out[n++] = (hb_round){ b, r, (int)ceil(end_size * scale), epochs, r ? previous : 0 };
            previous = epochs;
        }
    }
    return n;
}

void hb_totals(int max_epochs, int factor, int iterations, long *trials, long *epochs)
{
    hb_round rounds[64];
    int n = hb_schedule(max_epochs, factor, rounds, 64);
    long t = 0, e = 0;
    for (int k = 0; k < n; k++) {
        t += rounds[k].trials;
        e += (long)rounds[k].trials * (rounds[k].epochs - rounds[k].initial_epoch);
    }
    *trials = t * iterations;
    *epochs = e * iterations;
}
