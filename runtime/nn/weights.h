/* weights.h: the trained-model file of `hptc train --save`, `hptc export`
 * and `hptc eval`.
 *
 * Layout (little-endian), documented in docs/weights.md:
 *   "HPTCWTS1"                  8 bytes of magic
 *   u32 header_bytes            then that many bytes of UTF-8 text, one fact
 *                               per line: "spec_hash 4c89d3426d9f28c1",
 *                               "model_hash 0f3a...", "dtype_policy float32"
 *                               (what it trained under), "hp units 512", the
 *                               model ("data scale=...", "layer dense Dense
 *                               units=512 ...", "loss ..."), "floats 407050"
 *   f32 x floats                parameters, then BatchNormalization statistics,
 *                               in layer order (the trial's one buffer)
 *   u32 crc32                   zlib's CRC-32 of everything before it
 * A file is keyed by the model it holds (trial_describe_model), not by the
 * spec's text: comments, the tuner, search(...), the optimizer may change.
 * Files are written beside the target and renamed, so a crash never leaves
 * half a file under the real name. */
#ifndef HPTC_WEIGHTS_H
#define HPTC_WEIGHTS_H
#include <stddef.h>
#include "compiler/ir.h"
#include "runtime/err.h"

/* Write the weights w (n floats, trial_weights's layout) of the model p
 * builds under values, trained under dtype_policy ("float32",
 * "mixed_bfloat16"; NULL is float32): the floats are float32 master weights
 * either way, the policy is recorded for people.  Fails when n is not that
 * model's count. */
int weights_save(const char *path, const ir_program *p, const hpt_value *values, const char *dtype_policy, const float *w,
                 size_t n, hpt_error *e);
/* Read a file for the model p builds: fills values[] (p->n_hps slots; strings
 * in `a`; a hyperparameter the file does not name takes its default) and
 * returns the floats in *w (malloc'd).  Fails naming the file on a bad magic,
 * a CRC or length mismatch, a header line hptc does not write, or a model
 * that is not the one p builds under those values — saying what differs
 * ("layer dense_1: units 512 in the file, 256 in the spec").  A file from
 * before model hashes (no model_hash line) is accepted when its spec_hash is
 * p's. */
int weights_load(const char *path, const ir_program *p, arena *a, hpt_value *values, float **w, size_t *n,
                 hpt_error *e);

/* The same framing in memory (*out malloc'd). */
int weights_encode(const ir_program *p, const hpt_value *values, const char *dtype_policy, const float *w, size_t n,
                   unsigned char **out, size_t *out_len, hpt_error *e);

#endif
