/* jit_codegen.h: the JIT's code generator, inside runtime/nn only (jit.c
 * is its one caller; the rest of hptc goes through jit.h).
 *
 * jit_codegen writes one LLVM module for a jit_spec: per layer the forward
 * epilogue and backward chain, BatchNormalization's reductions, the fused
 * softmax cross-entropy and the optimizer loop (jit.c's opening comment says
 * what each computes and why the arithmetic matches kernels.c).  Every
 * function is named by jit_fn_name(id, what, k), which is also how jit.c
 * looks them up once compiled.  The generator exists only in builds with
 * LLVM (HPTC_JIT); the optimizer constants' order is shared by both. */
#ifndef HPTC_JIT_CODEGEN_H
#define HPTC_JIT_CODEGEN_H
#include "runtime/nn/jit.h"

/* The optimizer's run-time constants, in the order of the float array its
 * compiled step reads (jit_optim_step fills it for the step at hand). */
enum { OC_DECAY, OC_LR, OC_ALPHA, OC_C1, OC_C2, OC_EPS, OC_MU, OC_RHO, OC_1MRHO, OC_N };

#ifdef HPTC_JIT
#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

/* The host the code is for: the module's triple and data layout, and the
 * CPU and features every function is tagged with (AVX-512 where present). */
typedef struct jit_target {
    const char *triple, *cpu, *features;
    LLVMTargetMachineRef machine;
} jit_target;

/* The module of spec s in context C, its symbols prefixed by id. */
LLVMModuleRef jit_codegen(LLVMContextRef C, const jit_spec *s, long id, const jit_target *t);

/* "hptc<id>_<what><k>" into buf: the name of layer k's function `what`
 * ("fwd", "fwdd", "bwd", "bnf", "bnb"; "ce" and "opt" with k = 0). */
const char *jit_fn_name(char *buf, size_t n, long id, const char *what, int k);

#endif
#endif
