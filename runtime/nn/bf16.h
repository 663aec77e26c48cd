/* bf16.h: float32 <-> bfloat16 for mixed_bfloat16's GEMM operands, rounding
 * to nearest even (as vcvtneps2bf16 and Keras do), NaN kept a quiet NaN.
 * One place for the rule; matmul.c and onednn_conv.c both convert with it. */
#ifndef HPTC_BF16_H
#define HPTC_BF16_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t bf16_of(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* n floats to bf16: vcvtneps2bf16 where the CPU has it (every CPU that runs
 * mixed_bfloat16 does), else bf16_of. */
void bf16_from_f32(const float *x, uint16_t *y, size_t n);
/* n bf16 back to floats (exact). */
void bf16_to_f32(const uint16_t *x, float *y, size_t n);

#endif
