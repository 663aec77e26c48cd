/* weights.h: the trained-model file of `hptc train --save` / `hptc eval`.
 *
 * Layout (little-endian), documented in docs/weights.md:
 *   "HPTCWTS1"                  8 bytes of magic
 *   u32 header_bytes            then that many bytes of UTF-8 text, lines
 *                               "spec_hash 4c89d3426d9f28c1", "hp units 512",
 *                               "floats 407050"
 *   f32 x floats                parameters, then BatchNormalization statistics,
 *                               in layer order (the trial's one buffer)
 *   u32 crc32                   zlib's CRC-32 of everything before it
 * Files are written beside the target and renamed, so a crash never leaves
 * half a file under the real name. */
#ifndef HPTC_WEIGHTS_H
#define HPTC_WEIGHTS_H
#include <stddef.h>
#include "compiler/ir.h"
#include "runtime/err.h"

int weights_save(const char *path, const ir_program *p, const hpt_value *values, const float *w, size_t n,
                 hpt_error *e);
/* Read a file written for this spec: fills values[] (p->n_hps slots; strings
 * in `a`) and returns the floats in *w (malloc'd).  Fails naming the file on a
 * bad magic, a CRC mismatch, or a spec hash that is not this spec's. */
int weights_load(const char *path, const ir_program *p, arena *a, hpt_value *values, float **w, size_t *n,
                 hpt_error *e);

/* The same framing in memory, for checkpoints in the experiment store. */
int weights_encode(const ir_program *p, const hpt_value *values, const float *w, size_t n, unsigned char **out,
                   size_t *out_len);

#endif
