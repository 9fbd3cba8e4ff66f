/*
 * Flash-style causal attention on the CPU (FlashAttention-2's schedule, Dao 2023, without the GPU
 * specifics). The forward walks each block of query rows over key blocks of BK keys, keeping per
 * row a running max m, a running sum l and an unnormalised output: for each new block,
 *   m' = max(m, max_j s_j);  l' = l·e^(m−m') + Σ_j e^(s_j−m');  o' = o·e^(m−m') + Σ_j e^(s_j−m')·v_j
 * so the (T, T) probability matrix is never stored: only lse = m + log l per row (NH·T floats),
 * from which the backward recomputes p = e^(s − lse) block by block.
 *
 * GQA: one work unit is a block of BQ query positions for all G = NH/NKV query heads reading the
 * same KV head, so each transposed key block is loaded once for G·BQ rows. Units are handed out
 * through an atomic counter (costliest first: late query blocks see the most keys); each output
 * element is produced inside one unit in a fixed order, so the bits do not depend on the thread
 * count or on the schedule.
 *
 * Backward in two passes, each writing disjoint outputs (no atomics, no per-thread copies):
 *   pass 1, per (KV head, key block): dv_j += Σ_i p_ij·dout_i, dk_j += Σ_i ds_ij·q_i·scale
 *   pass 2, per (KV head, query block): dq_i += scale·Σ_j ds_ij·k_j
 * with ds_ij = p_ij·(dout_i·v_j − D_i), D_i = dout_i·out_i. Recomputing s and dp in both passes
 * costs two extra T²·HD products over FlashAttention-2's atomic dq; it keeps the bits fixed.
 */
#include "attention.h"
#include "vmath.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BQ 16  /* query positions per unit (times G heads) */
#define BK 64  /* keys per block: one row of scores is BK/VW vectors held in registers */
#define NV (BK / VW)
#define CH 256 /* keys per decode chunk */

static inline float hmax(const float *a) {
  vf m = *(const vf *)a;
  for (int v = 1; v < NV; v++) m = vmax(m, *(const vf *)(a + v * VW));
  float r = m[0];
  for (int l = 1; l < VW; l++) r = m[l] > r ? m[l] : r;
  return r;
}

static inline float hsum(const float *a) {
  vf s = *(const vf *)a;
  for (int v = 1; v < NV; v++) s += *(const vf *)(a + v * VW);
  float r = 0;
  for (int l = 0; l < VW; l++) r += s[l];
  return r;
}

/* s (BK) = x (HD) · Bt (HD, BK): Bt is a transposed key or value block, zero past its end. */
static inline void row_dot(const float *restrict x, const float *restrict Bt, int HD,
                           float *restrict s) {
  vf acc[NV];
  for (int v = 0; v < NV; v++) acc[v] = (vf){0};
  for (int d = 0; d < HD; d++) {
    const vf a = splat(x[d]);
    const vf *b = (const vf *)(Bt + (long)d * BK);
    for (int v = 0; v < NV; v++) acc[v] += a * b[v];
  }
  for (int v = 0; v < NV; v++) *(vf *)(s + v * VW) = acc[v];
}

/* Bt (HD, BK) = rows j0..j0+n of head `off` of a (T, stride) layout, transposed, zero-padded. */
static void transpose_block(float *restrict Bt, const float *restrict src, long j0, int n,
                            long stride, long off, int HD) {
  for (int d = 0; d < HD; d++) {
    float *row = Bt + (long)d * BK;
    for (int j = 0; j < n; j++) row[j] = src[(j0 + j) * stride + off + d];
    for (int j = n; j < BK; j++) row[j] = 0.0f;
  }
}

/* y (HD) += a · x (HD) */
static inline void axpy(float *restrict y, float a, const float *restrict x, int HD) {
  for (int d = 0; d < HD; d++) y[d] += a * x[d];
}

static inline long round16(long n) { return (n + 15) & ~15L; }

typedef struct {
  const float *q, *k, *v, *out, *lse, *dout, *D;
  float *o, *l, *dq, *dk, *dv;
  const int32_t *seg; /* per query row: start of its own segment (NULL: plain causal) */
  long Tq, Tk, past, prefix;
  int NH, NKV, HD, G;
  float scale;
  long nqb, nkb, units;
  long next; /* atomic unit counter */
  int failed;
} attn_ctx;

static float *scratch(attn_ctx *c, long floats) {
  float *p = NULL;
  if (posix_memalign((void **)&p, 64, (size_t)floats * sizeof(float)) != 0) {
    __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  return p;
}

static long take_unit(attn_ctx *c) { return __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED); }

/*
 * The keys of block [j0, j0 + nk) that query row i (at position t = past + i) sees: block offsets
 * j < *lim, except the gap [*g0, *g1) a packed sequence leaves between the shared prefix and the
 * row's own segment (row i sees keys [0, min(prefix, seg[i])) and [seg[i], t]). Returns how many
 * keys are visible; 0 means the row skips the block.
 */
static inline int row_window(const attn_ctx *c, long i, long j0, int nk, int *lim, int *g0,
                             int *g1) {
  const long t = c->past + i;
  *g0 = *g1 = 0;
  *lim = 0;
  if (t < j0) return 0;
  const int n = t - j0 + 1 < nk ? (int)(t - j0 + 1) : nk;
  *lim = n;
  if (c->seg == NULL) return n;
  const long s = c->seg[i], lo = s < c->prefix ? s : c->prefix;
  long a = lo - j0, b = s - j0;
  if (a < 0) a = 0;
  if (b > n) b = n;
  if (a >= b) return n;
  *g0 = (int)a;
  *g1 = (int)b;
  return n - (int)(b - a);
}

/* Whether any of query rows i0..i0+nr sees a key of block [j0, j0 + nk). */
static int block_needed(const attn_ctx *c, long i0, int nr, long j0, int nk) {
  int lim, g0, g1;
  for (int ii = 0; ii < nr; ii++)
    if (row_window(c, i0 + ii, j0, nk, &lim, &g0, &g1) > 0) return 1;
  return 0;
}

/* Scores outside a row's window become −inf, so their probabilities are exactly 0. */
static inline void mask_row(float *s, int lim, int g0, int g1) {
  for (int j = g0; j < g1; j++) s[j] = -INFINITY;
  for (int j = lim; j < BK; j++) s[j] = -INFINITY;
}

/* ---- forward ---- */

static void fwd_unit(attn_ctx *c, int kvh, long qb, float *Qs, float *S, float *Kt, float *acc,
                     float *m, float *l) {
  const int HD = c->HD, G = c->G;
  const long QD = (long)c->NH * HD, KD = (long)c->NKV * HD;
  const long i0 = qb * BQ, i1 = i0 + BQ < c->Tq ? i0 + BQ : c->Tq;
  const int nr = (int)(i1 - i0);
  for (int g = 0; g < G; g++) {
    const long h = (long)kvh * G + g;
    for (int ii = 0; ii < nr; ii++) {
      const int r = g * BQ + ii;
      const float *src = c->q + (i0 + ii) * QD + h * HD;
      for (int d = 0; d < HD; d++) Qs[r * HD + d] = src[d] * c->scale;
      memset(acc + (long)r * HD, 0, sizeof(float) * HD);
      m[r] = -INFINITY;
      l[r] = 0.0f;
    }
  }
  const long lastKey = c->past + i1 - 1;
  for (long j0 = 0; j0 <= lastKey; j0 += BK) {
    const int nk = (int)(lastKey + 1 - j0 < BK ? lastKey + 1 - j0 : BK);
    if (!block_needed(c, i0, nr, j0, nk)) continue;
    transpose_block(Kt, c->k, j0, nk, KD, (long)kvh * HD, HD);
    for (int g = 0; g < G; g++) {
      for (int ii = 0; ii < nr; ii++) {
        const int r = g * BQ + ii;
        int lim, g0, g1;
        /* the whole block is in this row's future or in its gap */
        if (row_window(c, i0 + ii, j0, nk, &lim, &g0, &g1) == 0) continue;
        float *s = S + (long)r * BK;
        row_dot(Qs + (long)r * HD, Kt, HD, s);
        mask_row(s, lim, g0, g1);
        const float mNew = fmaxf(m[r], hmax(s));
        const float corr = expf(m[r] - mNew); /* 0 on the first block (m = −inf) */
        const vf mv = splat(mNew);
        for (int v = 0; v < NV; v++) *(vf *)(s + v * VW) = vexp(*(vf *)(s + v * VW) - mv);
        l[r] = l[r] * corr + hsum(s);
        float *o = acc + (long)r * HD;
        if (corr != 1.0f)
          for (int d = 0; d < HD; d++) o[d] *= corr;
        const float *vb = c->v + j0 * KD + (long)kvh * HD;
        for (int j = 0; j < g0; j++) axpy(o, s[j], vb + j * KD, HD);
        for (int j = g1; j < lim; j++) axpy(o, s[j], vb + j * KD, HD);
        m[r] = mNew;
      }
    }
  }
  for (int g = 0; g < G; g++) {
    const long h = (long)kvh * G + g;
    for (int ii = 0; ii < nr; ii++) {
      const int r = g * BQ + ii;
      const float inv = 1.0f / l[r];
      float *dst = c->o + (i0 + ii) * QD + h * HD;
      for (int d = 0; d < HD; d++) dst[d] = acc[(long)r * HD + d] * inv;
      c->l[h * c->Tq + i0 + ii] = m[r] + logf(l[r]);
    }
  }
}

static void fwd_task(void *arg, int tid, int n) {
  (void)tid;
  (void)n;
  attn_ctx *c = (attn_ctx *)arg;
  const long rows = (long)c->G * BQ, HD = c->HD;
  const long nQs = round16(rows * HD), nS = rows * BK, nKt = HD * BK, nAcc = round16(rows * HD);
  float *buf = scratch(c, nQs + nS + nKt + nAcc + 2 * round16(rows));
  if (buf == NULL) return;
  float *Qs = buf, *S = Qs + nQs, *Kt = S + nS, *acc = Kt + nKt, *m = acc + nAcc,
        *l = m + round16(rows);
  for (long u; (u = take_unit(c)) < c->units;) {
    fwd_unit(c, (int)(u % c->NKV), c->nqb - 1 - u / c->NKV, Qs, S, Kt, acc, m, l);
  }
  free(buf);
}

int spell_attn_forward(spell_pool *pool, int threads, const float *q, const float *k,
                       const float *v, float *out, float *lse, long Tq, long Tk, int NH, int NKV,
                       int HD, const int32_t *seg, long prefix) {
  attn_ctx c = {0};
  c.seg = seg;
  c.prefix = prefix;
  c.q = q;
  c.k = k;
  c.v = v;
  c.o = out;
  c.l = lse;
  c.Tq = Tq;
  c.Tk = Tk;
  c.past = Tk - Tq;
  c.NH = NH;
  c.NKV = NKV;
  c.HD = HD;
  c.G = NH / NKV;
  c.scale = 1.0f / sqrtf((float)HD);
  c.nqb = (Tq + BQ - 1) / BQ;
  c.units = c.nqb * NKV;
  if (threads > c.units) threads = (int)c.units;
  spell_pool_run(pool, threads, fwd_task, &c);
  return !c.failed;
}

/* ---- backward ---- */

/*
 * Probabilities of one query row over a key block, p (BK), zero outside the row's window (see
 * row_window), and dp = dout·v (BK).
 */
static inline void row_probs(const attn_ctx *c, const float *Qs, const float *dO, const float *Kt,
                             const float *Vt, int lim, int g0, int g1, float lse, float *p,
                             float *dp) {
  row_dot(Qs, Kt, c->HD, p);
  row_dot(dO, Vt, c->HD, dp);
  const vf lv = splat(lse);
  mask_row(p, lim, g0, g1);
  for (int v = 0; v < NV; v++) *(vf *)(p + v * VW) = vexp(*(vf *)(p + v * VW) - lv);
}

/* Pass 1: dk, dv of one key block of one KV head, from every query row that sees it. */
static void bwd_kv_unit(attn_ctx *c, int kvh, long kb, float *Kt, float *Vt, float *dK, float *dV,
                        float *Qs, float *p, float *dp) {
  const int HD = c->HD, G = c->G;
  const long QD = (long)c->NH * HD, KD = (long)c->NKV * HD;
  const long j0 = kb * BK;
  const int nk = (int)(c->Tk - j0 < BK ? c->Tk - j0 : BK);
  transpose_block(Kt, c->k, j0, nk, KD, (long)kvh * HD, HD);
  transpose_block(Vt, c->v, j0, nk, KD, (long)kvh * HD, HD);
  memset(dK, 0, sizeof(float) * BK * HD);
  memset(dV, 0, sizeof(float) * BK * HD);
  long iStart = j0 - c->past;
  if (iStart < 0) iStart = 0;
  for (int g = 0; g < G; g++) {
    const long h = (long)kvh * G + g;
    for (long i = iStart; i < c->Tq; i++) {
      int lim, g0, g1;
      if (row_window(c, i, j0, nk, &lim, &g0, &g1) == 0) continue;
      const float *qr = c->q + i * QD + h * HD;
      const float *dO = c->dout + i * QD + h * HD;
      for (int d = 0; d < HD; d++) Qs[d] = qr[d] * c->scale;
      row_probs(c, Qs, dO, Kt, Vt, lim, g0, g1, c->lse[h * c->Tq + i], p, dp);
      const float Di = c->D[h * c->Tq + i];
      /* keys [0, g0) and [g1, lim): nothing flows through the gap (g0 = g1 = 0 without one) */
      for (int part = 0; part < 2; part++) {
        const int ja = part == 0 ? 0 : g1, jb = part == 0 ? g0 : lim;
        for (int j = ja; j < jb; j++) {
          axpy(dV + (long)j * HD, p[j], dO, HD);
          axpy(dK + (long)j * HD, p[j] * (dp[j] - Di), Qs, HD);
        }
      }
    }
  }
  for (int j = 0; j < nk; j++) {
    float *dk = c->dk + (j0 + j) * KD + (long)kvh * HD;
    float *dv = c->dv + (j0 + j) * KD + (long)kvh * HD;
    for (int d = 0; d < HD; d++) {
      dk[d] += dK[(long)j * HD + d];
      dv[d] += dV[(long)j * HD + d];
    }
  }
}

/* Pass 2: dq of one block of query positions for the G heads of one KV head. */
static void bwd_q_unit(attn_ctx *c, int kvh, long qb, float *Kt, float *Vt, float *dQ, float *Qs,
                       float *p, float *dp) {
  const int HD = c->HD, G = c->G;
  const long QD = (long)c->NH * HD, KD = (long)c->NKV * HD;
  const long i0 = qb * BQ, i1 = i0 + BQ < c->Tq ? i0 + BQ : c->Tq;
  const int nr = (int)(i1 - i0);
  memset(dQ, 0, sizeof(float) * (size_t)G * BQ * HD);
  const long lastKey = c->past + i1 - 1;
  for (long j0 = 0; j0 <= lastKey; j0 += BK) {
    const int nk = (int)(lastKey + 1 - j0 < BK ? lastKey + 1 - j0 : BK);
    if (!block_needed(c, i0, nr, j0, nk)) continue;
    transpose_block(Kt, c->k, j0, nk, KD, (long)kvh * HD, HD);
    transpose_block(Vt, c->v, j0, nk, KD, (long)kvh * HD, HD);
    const float *kb = c->k + j0 * KD + (long)kvh * HD;
    for (int g = 0; g < G; g++) {
      const long h = (long)kvh * G + g;
      for (int ii = 0; ii < nr; ii++) {
        const long i = i0 + ii;
        int lim, g0, g1;
        if (row_window(c, i, j0, nk, &lim, &g0, &g1) == 0) continue;
        const float *qr = c->q + i * QD + h * HD;
        const float *dO = c->dout + i * QD + h * HD;
        for (int d = 0; d < HD; d++) Qs[d] = qr[d] * c->scale;
        row_probs(c, Qs, dO, Kt, Vt, lim, g0, g1, c->lse[h * c->Tq + i], p, dp);
        const float Di = c->D[h * c->Tq + i];
        float *dq = dQ + ((long)g * BQ + ii) * HD;
        for (int j = 0; j < g0; j++) axpy(dq, p[j] * (dp[j] - Di), kb + j * KD, HD);
        for (int j = g1; j < lim; j++) axpy(dq, p[j] * (dp[j] - Di), kb + j * KD, HD);
      }
    }
  }
  for (int g = 0; g < G; g++) {
    const long h = (long)kvh * G + g;
    for (int ii = 0; ii < nr; ii++) {
      float *dst = c->dq + (i0 + ii) * QD + h * HD;
      const float *src = dQ + ((long)g * BQ + ii) * HD;
      for (int d = 0; d < HD; d++) dst[d] += c->scale * src[d];
    }
  }
}

static void bwd_kv_task(void *arg, int tid, int n) {
  (void)tid;
  (void)n;
  attn_ctx *c = (attn_ctx *)arg;
  const long HD = c->HD;
  float *buf = scratch(c, 4 * HD * BK + round16(HD) + 2 * BK);
  if (buf == NULL) return;
  float *Kt = buf, *Vt = Kt + HD * BK, *dK = Vt + HD * BK, *dV = dK + HD * BK, *p = dV + HD * BK,
        *dp = p + BK, *Qs = dp + BK;
  for (long u; (u = take_unit(c)) < c->units;) {
    /* earliest key blocks first: they are read by the most query rows */
    bwd_kv_unit(c, (int)(u % c->NKV), u / c->NKV, Kt, Vt, dK, dV, Qs, p, dp);
  }
  free(buf);
}

static void bwd_q_task(void *arg, int tid, int n) {
  (void)tid;
  (void)n;
  attn_ctx *c = (attn_ctx *)arg;
  const long HD = c->HD;
  float *buf = scratch(c, 2 * HD * BK + round16((long)c->G * BQ * HD) + round16(HD) + 2 * BK);
  if (buf == NULL) return;
  float *Kt = buf, *Vt = Kt + HD * BK, *p = Vt + HD * BK, *dp = p + BK, *Qs = dp + BK,
        *dQ = Qs + round16(HD);
  for (long u; (u = take_unit(c)) < c->units;) {
    bwd_q_unit(c, (int)(u % c->NKV), c->nqb - 1 - u / c->NKV, Kt, Vt, dQ, Qs, p, dp);
  }
  free(buf);
}

int spell_attn_backward(spell_pool *pool, int threads, const float *q, const float *k,
                        const float *v, const float *out, const float *lse, const float *dout,
                        float *dq, float *dk, float *dv, long Tq, long Tk, int NH, int NKV,
                        int HD, const int32_t *seg, long prefix) {
  attn_ctx c = {0};
  c.seg = seg;
  c.prefix = prefix;
  c.q = q;
  c.k = k;
  c.v = v;
  c.out = out;
  c.lse = lse;
  c.dout = dout;
  c.dq = dq;
  c.dk = dk;
  c.dv = dv;
  c.Tq = Tq;
  c.Tk = Tk;
  c.past = Tk - Tq;
  c.NH = NH;
  c.NKV = NKV;
  c.HD = HD;
  c.G = NH / NKV;
  c.scale = 1.0f / sqrtf((float)HD);
  c.nqb = (Tq + BQ - 1) / BQ;
  c.nkb = (Tk + BK - 1) / BK;
  /* D_i = dout_i · out_i per (head, row) */
  float *D = NULL;
  if (posix_memalign((void **)&D, 64, sizeof(float) * (size_t)(NH * Tq + 1)) != 0) return 0;
  const long QD = (long)NH * HD;
  for (int h = 0; h < NH; h++) {
    for (long i = 0; i < Tq; i++) {
      const float *a = dout + i * QD + (long)h * HD, *b = out + i * QD + (long)h * HD;
      float s = 0;
      for (int d = 0; d < HD; d++) s += a[d] * b[d];
      D[h * Tq + i] = s;
    }
  }
  c.D = D;
  c.units = c.nkb * NKV;
  int t1 = threads > c.units ? (int)c.units : threads;
  spell_pool_run(pool, t1, bwd_kv_task, &c);
  c.next = 0;
  c.units = c.nqb * NKV;
  int t2 = threads > c.units ? (int)c.units : threads;
  spell_pool_run(pool, t2, bwd_q_task, &c);
  free(D);
  return !c.failed;
}

/* ---- decode ---- */

typedef struct {
  const float *q, *kc, *vc;
  long L, Tk;
  int NH, NKV, HD, G, nch;
  float scale;
  float *pm, *pl, *pacc; /* partials per (head, chunk): max, sum, unnormalised output (HD) */
  long units, next;
  int failed;
} dec_ctx;

static void dec_task(void *arg, int tid, int n) {
  (void)tid;
  (void)n;
  dec_ctx *c = (dec_ctx *)arg;
  float *s = NULL;
  if (posix_memalign((void **)&s, 64, sizeof(float) * CH) != 0) {
    __atomic_store_n(&c->failed, 1, __ATOMIC_RELAXED);
    return;
  }
  const int HD = c->HD;
  for (long u; (u = __atomic_fetch_add(&c->next, 1, __ATOMIC_RELAXED)) < c->units;) {
    const int kvh = (int)(u / c->nch), ch = (int)(u % c->nch);
    const long c0 = (long)ch * CH, n = c->Tk - c0 < CH ? c->Tk - c0 : CH;
    const float *kt = c->kc + (long)kvh * HD * c->L + c0; /* (HD, L) */
    const float *vb = c->vc + ((long)kvh * c->L + c0) * HD;
    for (int g = 0; g < c->G; g++) {
      const long h = (long)kvh * c->G + g;
      const float *qh = c->q + h * HD;
      for (long j = 0; j < n; j++) s[j] = 0.0f;
      for (int d = 0; d < HD; d++) {
        const float a = qh[d] * c->scale;
        const float *kr = kt + (long)d * c->L;
        for (long j = 0; j < n; j++) s[j] += a * kr[j];
      }
      float m = -INFINITY;
      for (long j = 0; j < n; j++) m = s[j] > m ? s[j] : m;
      long jv = 0;
      const vf mv = splat(m);
      for (; jv + VW <= n; jv += VW) {
        vf x;
        memcpy(&x, s + jv, sizeof x);
        x = vexp(x - mv);
        memcpy(s + jv, &x, sizeof x);
      }
      for (; jv < n; jv++) s[jv] = expf(s[jv] - m);
      float l = 0;
      float *acc = c->pacc + (h * c->nch + ch) * HD;
      memset(acc, 0, sizeof(float) * HD);
      for (long j = 0; j < n; j++) {
        l += s[j];
        axpy(acc, s[j], vb + j * HD, HD);
      }
      c->pm[h * c->nch + ch] = m;
      c->pl[h * c->nch + ch] = l;
    }
  }
  free(s);
}

int spell_attn_decode(spell_pool *pool, int threads, const float *q, const float *kc,
                      const float *vc, float *out, long L, long Tk, int NH, int NKV, int HD) {
  dec_ctx c = {0};
  c.q = q;
  c.kc = kc;
  c.vc = vc;
  c.L = L;
  c.Tk = Tk;
  c.NH = NH;
  c.NKV = NKV;
  c.HD = HD;
  c.G = NH / NKV;
  c.nch = (int)((Tk + CH - 1) / CH);
  c.scale = 1.0f / sqrtf((float)HD);
  c.units = (long)NKV * c.nch;
  const long parts = (long)NH * c.nch;
  float *buf = NULL;
  if (posix_memalign((void **)&buf, 64, sizeof(float) * (size_t)(parts * (HD + 2)))) return 0;
  c.pm = buf;
  c.pl = buf + parts;
  c.pacc = buf + 2 * parts;
  /* a pool wake-up costs more than a short row's whole attention */
  if ((double)Tk * NH * HD < 65536.0) threads = 1;
  if (threads > c.units) threads = (int)c.units;
  spell_pool_run(pool, threads, dec_task, &c);
  if (!c.failed) {
    for (int h = 0; h < NH; h++) {
      float M = -INFINITY;
      for (int ch = 0; ch < c.nch; ch++) M = fmaxf(M, c.pm[h * c.nch + ch]);
      float l = 0;
      float *o = out + (long)h * HD;
      memset(o, 0, sizeof(float) * HD);
      for (int ch = 0; ch < c.nch; ch++) {
        const float w = expf(c.pm[h * c.nch + ch] - M);
        l += w * c.pl[h * c.nch + ch];
        axpy(o, w, c.pacc + ((long)h * c.nch + ch) * HD, HD);
      }
      const float inv = 1.0f / l;
      for (int d = 0; d < HD; d++) o[d] *= inv;
    }
  }
  free(buf);
  return !c.failed;
}
