/* bf16.c: the conversions of bf16.h. */
#include "runtime/nn/bf16.h"

#include <immintrin.h>

__attribute__((target("avx512f,avx512bf16"))) static void from_f32_avx512(const float *x, uint16_t *y, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        _mm256_storeu_si256((__m256i *)(y + i), (__m256i)h);
    }
    for (; i < n; i++) y[i] = bf16_of(x[i]);
}

void bf16_from_f32(const float *x, uint16_t *y, size_t n)
{
    static int native = -1;
    if (native < 0) __atomic_store_n(&native, __builtin_cpu_supports("avx512bf16") ? 1 : 0, __ATOMIC_RELAXED);
    if (native) {
        from_f32_avx512(x, y, n);
        return;
    }
    for (size_t i = 0; i < n; i++) y[i] = bf16_of(x[i]);
}

void bf16_to_f32(const uint16_t *x, float *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)x[i] << 16;
        memcpy(&y[i], &u, sizeof u);
    }
}
