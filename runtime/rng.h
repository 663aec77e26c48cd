/* rng.h: counter-based random numbers.
 *
 * Every random draw in hptc is a pure function of (key, counter): a trial's
 * stream is keyed by hash(seed, trial id, purpose), so results do not depend
 * on which thread or rank runs the trial, on --jobs, or on a resume.  The
 * mixer is splitmix64's finaliser, which passes BigCrush as a hash of a
 * counter and costs a handful of instructions. */
#ifndef HPTC_RNG_H
#define HPTC_RNG_H
#include <stdint.h>

/* Streams for different purposes derived from one seed never overlap. */
enum rng_purpose { RNG_INIT = 1, RNG_SHUFFLE, RNG_DROPOUT, RNG_ORACLE, RNG_CV_FOLDS };

static inline uint64_t rng_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Derive a stream key from a parent key and a small tag (trial id, purpose, epoch...). */
static inline uint64_t rng_key(uint64_t parent, uint64_t tag) { return rng_mix(parent ^ rng_mix(tag + 0x632be59bd9b4e019ull)); }

/* The i-th 64-bit draw of stream `key`. */
static inline uint64_t rng_at(uint64_t key, uint64_t i) { return rng_mix(key + rng_mix(i)); }

/* A sequential stream: state = (key, counter). */
typedef struct rng { uint64_t key, counter; } rng;

static inline rng rng_stream(uint64_t key) { rng r = { key, 0 }; return r; }
static inline uint64_t rng_next(rng *r) { return rng_at(r->key, r->counter++); }
/* Uniform in [0, 1) with 24 (float) or 53 (double) random bits. */
static inline float rng_float(rng *r) { return (float)(rng_next(r) >> 40) * 0x1p-24f; }
static inline double rng_double(rng *r) { return (double)(rng_next(r) >> 11) * 0x1p-53; }
/* Uniform integer in [0, n), unbiased (Lemire's method with rejection). */
static inline uint64_t rng_below(rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        __uint128_t m = (__uint128_t)rng_next(r) * n;
        if ((uint64_t)m >= threshold) return (uint64_t)(m >> 64);
    }
}
/* Standard normal (Box-Muller over two draws). */
double rng_normal(rng *r);

#endif
