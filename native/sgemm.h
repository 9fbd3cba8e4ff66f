/*
 * spell_gemm core API: a deterministic multi-threaded sgemm (see sgemm.c). Used by addon.c.
 */
#ifndef SPELL_SGEMM_H
#define SPELL_SGEMM_H
#include <stddef.h>

#include "pool.h"

#define SPELL_MAX_THREADS 64
/* Products with at most this many rows skip packing and run the direct kernels. */
#define SPELL_SMALL_M 8

/* Packed buffers for one thread, grow-only, 64-byte aligned. */
typedef struct {
  float *a; /* MC_round × KC, as MR-tall panels: panel p, depth k, row r at [p*KC*MR + k*MR + r] */
  float *b; /* KC × NC_round, as NR-wide panels: panel q, depth k, col c at [q*KC*NR + k*NR + c] */
  size_t a_cap, b_cap;
} spell_pack_bufs;

typedef struct {
  spell_pack_bufs bufs[SPELL_MAX_THREADS];
  spell_pool pool; /* persistent workers shared by sgemm and the attention kernels */
} spell_gemm_instance;

/* Instruction set and register tile the kernel was compiled for. */
const char *spell_sgemm_isa(void);
int spell_sgemm_mr(void);
int spell_sgemm_nr(void);

/*
 * C (M×N) = op(A)·op(B) (+ C when accumulate); row-major, contiguous; op(A) is M×K (A stored K×M
 * when transA), op(B) is K×N (B stored N×K when transB). Uses up to `threads` threads; the bits of
 * C do not depend on the count. With row_stable, each row of C also has the same bits whatever M
 * is (the same row computed alone gives the same floats); without it that holds for M ≤
 * SPELL_SMALL_M and for M > SPELL_SMALL_M separately. Returns 0 when buffers cannot be allocated.
 */
int spell_sgemm(spell_gemm_instance *inst, int transA, int transB, long M, long N, long K,
                const float *A, const float *B, float *C, int accumulate, int threads,
                int row_stable);

/* Frees the packing buffers (not the instance itself). */
void spell_sgemm_release(spell_gemm_instance *inst);
#endif
