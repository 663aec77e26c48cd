/* rng.c: the parts of the counter-based generator that are not one-liners. */
#include "runtime/rng.h"

#include <math.h>

double rng_normal(rng *r)
{
    double u1 = rng_double(r), u2 = rng_double(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}
