/*
 * spell_gemm: the native matrix multiply behind src/model/kernels/gemm.ts.
 *
 *   C (M×N) = op(A)·op(B) (+ C),  row-major, op = optional transpose (BLAS "sgemm" without alpha).
 *
 * Structure (the BLIS/GotoBLAS scheme): the K dimension is cut into KC-deep slabs and N into NC-wide
 * blocks; each slab of op(B) is packed into NR-wide column panels and each MC×KC block of op(A)
 * into MR-tall row panels, zero-padded, so every transpose combination reaches the same
 * micro-kernel with unit-stride loads. The micro-kernel keeps an MR×NR tile of C in vector
 * registers and runs one FMA chain per element over the slab.
 *
 * Determinism: every element of C is computed by the same sequence of operations whatever tile,
 * block or thread it falls in (slab sums in a fixed order, zero padding never touches real lanes),
 * so threads split C into disjoint column or row ranges and no sum crosses threads: the result
 * bits do not depend on the thread count.
 *
 * Compiled with -O3 -march=native: the vector width and tile shape follow the build machine.
 * No Node dependency here: addon.c is the N-API glue, so this file can be driven from C too.
 */
#include "sgemm.h"
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__AVX512F__)
#define VW 16
#ifdef SPELL_MR /* tuning knob: rows per register tile (accumulators = 2·MR of 32 registers) */
#define MR SPELL_MR
#else
#define MR 8
#endif
#define ISA "avx512"
#elif defined(__AVX__)
#define VW 8
#define MR 6
#define ISA "avx2"
#elif defined(__SSE2__) || defined(__ARM_NEON)
#define VW 4
#define MR 6
#define ISA "sse"
#else
#define VW 4
#define MR 4
#define ISA "generic"
#endif
#define NR (2 * VW)

/* Cache blocking: an MR×KC panel of op(A) (8 KB) lives in L1, the packed KC×NC slab of op(B)
 * (1 MB) in L2, the MC×KC block of op(A) in L2/L3. Override with -D for tuning. */
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 240
#endif
#ifndef NC
#define NC 1024
#endif

/* Vector of VW floats; the alias with 4-byte alignment is used for unaligned rows of C. */
typedef float vf __attribute__((vector_size(VW * 4)));
typedef float vfu __attribute__((vector_size(VW * 4), aligned(4)));

/* One gemm sub-problem: a contiguous range of C handled by one thread. */
typedef struct {
  int transA, transB, accumulate;
  int direct; /* 1: the unpacked small-M kernels below instead of the packed panels */
  long M, N, K, lda, ldb, ldc;
  const float *A, *B;
  float *C;
  spell_pack_bufs *bufs;
  int failed;
} job;

static int ensure(float **p, size_t *cap, size_t n) {
  if (*cap >= n) return 1;
  free(*p);
  *p = NULL;
  *cap = 0;
  size_t bytes = (n * sizeof(float) + 63) & ~(size_t)63;
  if (posix_memalign((void **)p, 64, bytes) != 0) {
    *p = NULL;
    return 0;
  }
  *cap = n;
  return 1;
}

/* op(A)[i,k] panels for rows i0..i0+mc, depth p0..p0+kc; rows past mc are zero. */
static void pack_a(const job *jb, long i0, long mc, long p0, long kc, float *dst) {
  for (long ip = 0; ip < mc; ip += MR) {
    long m = mc - ip < MR ? mc - ip : MR;
    float *d = dst + ip * kc; /* (ip / MR) * kc * MR */
    if (jb->transA) {
      /* A stored K×M: row k of A holds op(A)[·,k] contiguously. */
      for (long k = 0; k < kc; k++) {
        const float *s = jb->A + (p0 + k) * jb->lda + i0 + ip;
        long r = 0;
        for (; r < m; r++) d[k * MR + r] = s[r];
        for (; r < MR; r++) d[k * MR + r] = 0.0f;
      }
    } else {
      for (long r = 0; r < MR; r++) {
        if (r < m) {
          const float *s = jb->A + (i0 + ip + r) * jb->lda + p0;
          for (long k = 0; k < kc; k++) d[k * MR + r] = s[k];
        } else {
          for (long k = 0; k < kc; k++) d[k * MR + r] = 0.0f;
        }
      }
    }
  }
}

/* op(B)[k,j] panels for depth p0..p0+kc, columns j0..j0+nc; columns past nc are zero. */
static void pack_b(const job *jb, long p0, long kc, long j0, long nc, float *dst) {
  for (long jp = 0; jp < nc; jp += NR) {
    long n = nc - jp < NR ? nc - jp : NR;
    float *d = dst + jp * kc; /* (jp / NR) * kc * NR */
    if (jb->transB) {
      /* B stored N×K: row j of B holds op(B)[·,j] contiguously. */
      for (long c = 0; c < NR; c++) {
        if (c < n) {
          const float *s = jb->B + (j0 + jp + c) * jb->ldb + p0;
          for (long k = 0; k < kc; k++) d[k * NR + c] = s[k];
        } else {
          for (long k = 0; k < kc; k++) d[k * NR + c] = 0.0f;
        }
      }
    } else {
      for (long k = 0; k < kc; k++) {
        const float *s = jb->B + (p0 + k) * jb->ldb + j0 + jp;
        long c = 0;
        for (; c < n; c++) d[k * NR + c] = s[c];
        for (; c < NR; c++) d[k * NR + c] = 0.0f;
      }
    }
  }
}

/*
 * The micro-kernel: tile (MR×NR) = Ap (kc×MR panel)ᵀ · Bp (kc×NR panel), then C = tile or
 * C += tile. Full tiles write C directly; edge tiles (m < MR or n < NR) go through a stack tile
 * so the arithmetic per element is identical either way.
 */
static void kernel(long kc, const float *restrict Ap, const float *restrict Bp, float *restrict C,
                   long ldc, long m, long n, int overwrite) {
  vf c0[MR], c1[MR];
#pragma GCC unroll 16
  for (int r = 0; r < MR; r++) {
    c0[r] = (vf){0};
    c1[r] = (vf){0};
  }
  for (long k = 0; k < kc; k++) {
    const vf b0 = *(const vf *)(Bp + k * NR);
    const vf b1 = *(const vf *)(Bp + k * NR + VW);
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      /* vector × scalar broadcasts the scalar (GCC vector extension), fused into one FMA */
      const float a = Ap[k * MR + r];
      c0[r] += b0 * a;
      c1[r] += b1 * a;
    }
  }
  if (m == MR && n == NR) {
#pragma GCC unroll 16
    for (int r = 0; r < MR; r++) {
      vfu *row = (vfu *)(C + r * ldc);
      if (overwrite) {
        row[0] = c0[r];
        row[1] = c1[r];
      } else {
        row[0] += c0[r];
        row[1] += c1[r];
      }
    }
    return;
  }
  float tile[MR * NR] __attribute__((aligned(64)));
  for (int r = 0; r < MR; r++) {
    *(vf *)(tile + r * NR) = c0[r];
    *(vf *)(tile + r * NR + VW) = c1[r];
  }
  for (long r = 0; r < m; r++) {
    for (long c = 0; c < n; c++) {
      if (overwrite) C[r * ldc + c] = tile[r * NR + c];
      else C[r * ldc + c] += tile[r * NR + c];
    }
  }
}

/*
 * ---- The direct (unpacked) paths, for few rows of C. ----
 * Packing costs one read and one write of every element of op(B), the same memory traffic as
 * the whole product when M is 1, and the MR-tall register tile then wastes MR−m of its rows. The
 * two kernels below read B in place instead.
 */

/* Rows of C per direct-kernel call, and vectors of columns per axpy block. */
#define DR 4
#define DV 4

/*
 * op(B) stored K×N (no transB), the axpy form: C[i, j..j+VW) accumulates op(A)[i,k]·B[k, j..]
 * over k. Each element is the same FMA chain over the same KC slabs, added to C in the same
 * order, as in the packed kernel, so this path gives the packed path's bits exactly.
 */
static inline __attribute__((always_inline)) void axpy_block(const job *jb, long i0, int m, long j0, int nv, long p0, long kc,
                              int overwrite) {
  vf acc[DR][DV];
  for (int r = 0; r < m; r++)
    for (int v = 0; v < nv; v++) acc[r][v] = (vf){0};
  const long rs = jb->transA ? 1 : jb->lda, ks = jb->transA ? jb->lda : 1;
  for (long k = p0; k < p0 + kc; k++) {
    const float *brow = jb->B + k * jb->ldb + j0;
    vf b[DV];
    for (int v = 0; v < nv; v++) b[v] = *(const vfu *)(brow + v * VW);
    for (int r = 0; r < m; r++) {
      const float a = jb->A[(i0 + r) * rs + k * ks];
      for (int v = 0; v < nv; v++) acc[r][v] += b[v] * a;
    }
  }
  for (int r = 0; r < m; r++) {
    for (int v = 0; v < nv; v++) {
      vfu *c = (vfu *)(jb->C + (i0 + r) * jb->ldc + j0 + v * VW);
      if (overwrite) *c = acc[r][v];
      else *c += acc[r][v];
    }
  }
}

/* The same chain one column at a time, for the last N mod VW columns. */
static void axpy_column(const job *jb, long i, long j, long p0, long kc, int overwrite) {
  const long rs = jb->transA ? 1 : jb->lda, ks = jb->transA ? jb->lda : 1;
  float s = 0.0f;
  for (long k = p0; k < p0 + kc; k++) s = __builtin_fmaf(jb->B[k * jb->ldb + j], jb->A[i * rs + k * ks], s);
  float *c = jb->C + i * jb->ldc + j;
  *c = overwrite ? s : *c + s;
}

static void run_axpy(const job *jb) {
  const long M = jb->M, N = jb->N, K = jb->K;
  const long nFull = N - N % VW;
  for (long p0 = 0; p0 < K; p0 += KC) {
    const long kc = K - p0 < KC ? K - p0 : KC;
    const int overwrite = p0 == 0 && !jb->accumulate;
    for (long i0 = 0; i0 < M; i0 += DR) {
      const int m = M - i0 < DR ? (int)(M - i0) : DR;
      for (long j0 = 0; j0 < nFull; j0 += DV * VW) {
        const int nv = (nFull - j0) / VW < DV ? (int)((nFull - j0) / VW) : DV;
        /* constant trip counts let the compiler keep the accumulators in registers */
        if (nv == DV && m == 4) axpy_block(jb, i0, 4, j0, DV, p0, kc, overwrite);
        else if (nv == DV && m == 3) axpy_block(jb, i0, 3, j0, DV, p0, kc, overwrite);
        else if (nv == DV && m == 2) axpy_block(jb, i0, 2, j0, DV, p0, kc, overwrite);
        else if (nv == DV && m == 1) axpy_block(jb, i0, 1, j0, DV, p0, kc, overwrite);
        else if (nv == 2 && m == 2) axpy_block(jb, i0, 2, j0, 2, p0, kc, overwrite);
        else if (nv == 2 && m == 1) axpy_block(jb, i0, 1, j0, 2, p0, kc, overwrite);
        else axpy_block(jb, i0, m, j0, nv, p0, kc, overwrite);
      }
      for (long i = i0; i < i0 + m; i++)
        for (long j = nFull; j < N; j++) axpy_column(jb, i, j, p0, kc, overwrite);
    }
  }
}

/* Sum of the lanes in a fixed halving order (lane l + lane l+w), so the bits never vary. */
static inline float reduce_lanes(vf v) {
  float t[VW] __attribute__((aligned(64)));
  *(vf *)t = v;
  for (int w = VW / 2; w >= 1; w /= 2)
    for (int l = 0; l < w; l++) t[l] += t[l + w];
  return t[0];
}

/*
 * op(B) stored N×K (transB), the dot form: C[i,j] = Σ_k A[i,k]·B[j,k] with both rows contiguous
 * along k. Lane l of the accumulator sums k ≡ l (mod VW) as one FMA chain, the lanes are then
 * reduced in a fixed order, and the last K mod VW terms are added in order. Every element goes
 * through that one sequence whatever M, N, the row group or the thread, so rows computed
 * together have the bits they have when computed alone (the "row-stable" property the batched
 * sampler relies on). The bits differ from the packed path's (a different summation order).
 */
static inline __attribute__((always_inline)) void dot_block(const float *A, long lda, const float *B, long ldb, float *C,
                             long ldc, long K, int m, int nc, int overwrite) {
  const long Kv = K - K % VW;
  vf acc[DR][DR];
  for (int r = 0; r < m; r++)
    for (int c = 0; c < nc; c++) acc[r][c] = (vf){0};
  for (long k = 0; k < Kv; k += VW) {
    vf b[DR];
    for (int c = 0; c < nc; c++) b[c] = *(const vfu *)(B + c * ldb + k);
    for (int r = 0; r < m; r++) {
      const vf a = *(const vfu *)(A + r * lda + k);
      for (int c = 0; c < nc; c++) acc[r][c] += a * b[c];
    }
  }
#if VW == 16 && DR == 4
  {
    /* Missing rows/columns of an edge block reduce as zeros and are never stored. */
    for (int r = 0; r < DR; r++)
      for (int c = 0; c < DR; c++)
        if (r >= m || c >= nc) acc[r][c] = (vf){0};
    /* All 16 reductions at once, as whole-vector shuffles and adds in reduce_lanes' halving
     * order (lane l + lane l+w): after the four levels, lane 4r + c holds Σ acc[r][c]. */
    vf h[8], q[4], e[2];
    for (int t = 0; t < 8; t++) {
      const vf u = acc[(2 * t) / DR][(2 * t) % DR], w = acc[(2 * t + 1) / DR][(2 * t + 1) % DR];
      h[t] = __builtin_shufflevector(u, w, 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23) +
             __builtin_shufflevector(u, w, 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
    }
    for (int t = 0; t < 4; t++)
      q[t] = __builtin_shufflevector(h[2 * t], h[2 * t + 1], 0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27) +
             __builtin_shufflevector(h[2 * t], h[2 * t + 1], 4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31);
    for (int t = 0; t < 2; t++)
      e[t] = __builtin_shufflevector(q[2 * t], q[2 * t + 1], 0, 1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24, 25, 28, 29) +
             __builtin_shufflevector(q[2 * t], q[2 * t + 1], 2, 3, 6, 7, 10, 11, 14, 15, 18, 19, 22, 23, 26, 27, 30, 31);
    const vf z = __builtin_shufflevector(e[0], e[1], 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30) +
                 __builtin_shufflevector(e[0], e[1], 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    float sums[16] __attribute__((aligned(64)));
    *(vf *)sums = z;
    for (int r = 0; r < m; r++) {
      for (int c = 0; c < nc; c++) {
        float sum = sums[r * DR + c];
        for (long k = Kv; k < K; k++) sum = __builtin_fmaf(A[r * lda + k], B[c * ldb + k], sum);
        float *dst = C + r * ldc + c;
        *dst = overwrite ? sum : *dst + sum;
      }
    }
    return;
  }
#endif
  for (int r = 0; r < m; r++) {
    for (int c = 0; c < nc; c++) {
      float s = reduce_lanes(acc[r][c]);
      for (long k = Kv; k < K; k++) s = __builtin_fmaf(A[r * lda + k], B[c * ldb + k], s);
      float *dst = C + r * ldc + c;
      *dst = overwrite ? s : *dst + s;
    }
  }
}

static void run_dot(job *jb) {
  const long M = jb->M, N = jb->N, K = jb->K;
  const float *A = jb->A;
  long lda = jb->lda;
  if (jb->transA) {
    /* A stored K×M: gather the job's rows of op(A) so each is contiguous along k. */
    if (!ensure(&jb->bufs->a, &jb->bufs->a_cap, (size_t)(M * K))) {
      jb->failed = 1;
      return;
    }
    float *rows = jb->bufs->a;
    for (long k = 0; k < K; k++)
      for (long i = 0; i < M; i++) rows[i * K + k] = jb->A[k * jb->lda + i];
    A = rows;
    lda = K;
  }
  const int overwrite = !jb->accumulate;
  for (long i0 = 0; i0 < M; i0 += DR) {
    const int m = M - i0 < DR ? (int)(M - i0) : DR;
    for (long j0 = 0; j0 < N; j0 += DR) {
      const int nc = N - j0 < DR ? (int)(N - j0) : DR;
      const float *a = A + i0 * lda, *b = jb->B + j0 * jb->ldb;
      float *c = jb->C + i0 * jb->ldc + j0;
      /* constant trip counts let the compiler keep the accumulators in registers */
      if (nc == DR && m == 4) dot_block(a, lda, b, jb->ldb, c, jb->ldc, K, 4, DR, overwrite);
      else if (nc == DR && m == 3) dot_block(a, lda, b, jb->ldb, c, jb->ldc, K, 3, DR, overwrite);
      else if (nc == DR && m == 2) dot_block(a, lda, b, jb->ldb, c, jb->ldc, K, 2, DR, overwrite);
      else if (nc == DR && m == 1) dot_block(a, lda, b, jb->ldb, c, jb->ldc, K, 1, DR, overwrite);
      else dot_block(a, lda, b, jb->ldb, c, jb->ldc, K, m, nc, overwrite);
    }
  }
}

static long round_up(long x, long m) { return (x + m - 1) / m * m; }

/* One thread's serial gemm over its range of C. */
static void run_job(job *jb) {
  const long M = jb->M, N = jb->N, K = jb->K;
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (!jb->accumulate)
      for (long i = 0; i < M; i++) memset(jb->C + i * jb->ldc, 0, (size_t)N * sizeof(float));
    return;
  }
  if (jb->direct) {
    if (jb->transB) run_dot(jb);
    else run_axpy(jb);
    return;
  }
  const long kcMax = K < KC ? K : KC;
  const long mcMax = round_up(M < MC ? M : MC, MR);
  const long ncMax = round_up(N < NC ? N : NC, NR);
  if (!ensure(&jb->bufs->a, &jb->bufs->a_cap, (size_t)(mcMax * kcMax)) ||
      !ensure(&jb->bufs->b, &jb->bufs->b_cap, (size_t)(ncMax * kcMax))) {
    jb->failed = 1;
    return;
  }
  float *Ap = jb->bufs->a, *Bp = jb->bufs->b;
  for (long j0 = 0; j0 < N; j0 += NC) {
    const long nc = N - j0 < NC ? N - j0 : NC;
    for (long p0 = 0; p0 < K; p0 += KC) {
      const long kc = K - p0 < KC ? K - p0 : KC;
      /* The first slab overwrites C unless accumulating; later slabs add in order of p0. */
      const int overwrite = p0 == 0 && !jb->accumulate;
      pack_b(jb, p0, kc, j0, nc, Bp);
      for (long i0 = 0; i0 < M; i0 += MC) {
        const long mc = M - i0 < MC ? M - i0 : MC;
        pack_a(jb, i0, mc, p0, kc, Ap);
        /* One MR×kc panel of A stays in L1 while the packed kc×nc slab of B streams from L2. */
        for (long ir = 0; ir < mc; ir += MR) {
          const long m = mc - ir < MR ? mc - ir : MR;
          for (long jr = 0; jr < nc; jr += NR) {
            const long n = nc - jr < NR ? nc - jr : NR;
            kernel(kc, Ap + ir * kc, Bp + jr * kc, jb->C + (i0 + ir) * jb->ldc + j0 + jr, jb->ldc,
                   m, n, overwrite);
          }
        }
      }
    }
  }
}

/* Pool task: thread tid runs jobs tid, tid + n, ... (all of them when the pool is short). */
typedef struct {
  job *jobs;
  int njobs;
} job_list;

static void run_jobs(void *arg, int tid, int n) {
  job_list *jl = (job_list *)arg;
  for (int t = tid; t < jl->njobs; t += n) run_job(&jl->jobs[t]);
}

/*
 * Split C among up to `threads` workers: along N in NR-aligned column ranges when N is the wider
 * side, else along M in MR-aligned row ranges. Small products stay on one thread, where the cost
 * of starting one would outweigh the work. Returns 0 on allocation failure.
 */
int spell_sgemm(spell_gemm_instance *inst, int transA, int transB, long M, long N, long K, const float *A,
                 const float *B, float *C, int accumulate, int threads, int row_stable) {
  const double flops = 2.0 * (double)M * (double)N * (double)K;
  /* The axpy path has the packed path's bits, so only the dot path needs row_stable to pick it
   * for every M: then a row's bits never depend on which other rows share the call. */
  const int direct = M <= SPELL_SMALL_M || (row_stable && transB);
  if (flops < 4e6) threads = 1;
  const int byCols = N >= M;
  const long units = byCols ? (N + NR - 1) / NR : (M + MR - 1) / MR;
  if (threads > units) threads = (int)units;
  if (threads < 1) threads = 1;
  job jobs[SPELL_MAX_THREADS];
  for (int t = 0; t < threads; t++) {
    /* Units [u0, u1) for thread t: as even as whole tiles allow. */
    const long u0 = units * t / threads, u1 = units * (t + 1) / threads;
    const long step = byCols ? NR : MR, total = byCols ? N : M;
    const long s0 = u0 * step, s1 = u1 * step < total ? u1 * step : total;
    job *jb = &jobs[t];
    jb->transA = transA;
    jb->transB = transB;
    jb->accumulate = accumulate;
    jb->direct = direct;
    jb->K = K;
    jb->lda = transA ? M : K;
    jb->ldb = transB ? K : N;
    jb->ldc = N;
    jb->bufs = &inst->bufs[t];
    jb->failed = 0;
    if (byCols) {
      jb->M = M;
      jb->N = s1 - s0;
      jb->A = A;
      jb->B = transB ? B + s0 * K : B + s0;
      jb->C = C + s0;
    } else {
      jb->M = s1 - s0;
      jb->N = N;
      jb->A = transA ? A + s0 : A + s0 * K;
      jb->B = B;
      jb->C = C + s0 * N;
    }
  }
  job_list jl = {jobs, threads};
  spell_pool_run(&inst->pool, threads, run_jobs, &jl);
  int ok = 1;
  for (int t = 0; t < threads; t++) ok = ok && !jobs[t].failed;
  return ok;
}

const char *spell_sgemm_isa(void) { return ISA; }
int spell_sgemm_mr(void) { return MR; }
int spell_sgemm_nr(void) { return NR; }

void spell_sgemm_release(spell_gemm_instance *inst) {
  spell_pool_destroy(&inst->pool);
  for (int t = 0; t < SPELL_MAX_THREADS; t++) {
    free(inst->bufs[t].a);
    free(inst->bufs[t].b);
    inst->bufs[t].a = inst->bufs[t].b = NULL;
    inst->bufs[t].a_cap = inst->bufs[t].b_cap = 0;
  }
}
