/* Elementwise kernels of elementwise.h. */
#include "elementwise.h"
#include <math.h>
#include <string.h>

#include "vmath.h"

typedef struct {
  float *out, *dgate, *dup;
  const float *gate, *up, *dout;
  long n;
} sw_ctx;

/* σ(g) for a vector: e = e^(−|g|) ≤ 1 keeps vexp in range; σ = 1/(1+e) for g ≥ 0, e/(1+e) else. */
static inline vf vsigmoid(vf g) {
  const vi neg = g < splat(0.0f);
  const vf a = (vf)((vi)g & ((vi){0} + 0x7fffffff)); /* |g|: clear the sign bit */
  const vf e = vexp(-a);
  const vf inv = splat(1.0f) / (splat(1.0f) + e);
  return (vf)(((vi)(e * inv) & neg) | ((vi)inv & ~neg));
}

static inline float sigmoid1(float g) { return 1.0f / (1.0f + expf(-g)); }

static void range(long n, int tid, int nt, long *i0, long *i1) {
  /* contiguous, VW-aligned ranges */
  const long blocks = (n + VW - 1) / VW;
  *i0 = blocks * tid / nt * VW;
  *i1 = blocks * (tid + 1) / nt * VW;
  if (*i1 > n) *i1 = n;
}

static void fwd_task(void *arg, int tid, int nt) {
  sw_ctx *c = (sw_ctx *)arg;
  long i0, i1, i;
  range(c->n, tid, nt, &i0, &i1);
  for (i = i0; i + VW <= i1; i += VW) {
    vf g, u;
    memcpy(&g, c->gate + i, sizeof g);
    memcpy(&u, c->up + i, sizeof u);
    const vf h = g * vsigmoid(g) * u;
    memcpy(c->out + i, &h, sizeof h);
  }
  for (; i < i1; i++) c->out[i] = c->gate[i] * sigmoid1(c->gate[i]) * c->up[i];
}

static void bwd_task(void *arg, int tid, int nt) {
  sw_ctx *c = (sw_ctx *)arg;
  long i0, i1, i;
  range(c->n, tid, nt, &i0, &i1);
  for (i = i0; i + VW <= i1; i += VW) {
    vf g, u, d, dg, du;
    memcpy(&g, c->gate + i, sizeof g);
    memcpy(&u, c->up + i, sizeof u);
    memcpy(&d, c->dout + i, sizeof d);
    memcpy(&dg, c->dgate + i, sizeof dg);
    memcpy(&du, c->dup + i, sizeof du);
    const vf s = vsigmoid(g);
    du += d * g * s;
    dg += d * u * s * (splat(1.0f) + g * (splat(1.0f) - s));
    memcpy(c->dgate + i, &dg, sizeof dg);
    memcpy(c->dup + i, &du, sizeof du);
  }
  for (; i < i1; i++) {
    const float g = c->gate[i], s = sigmoid1(g);
    c->dup[i] += c->dout[i] * g * s;
    c->dgate[i] += c->dout[i] * c->up[i] * s * (1.0f + g * (1.0f - s));
  }
}

/* a pool wake-up costs more than a short vector's work */
static int threads_for(long n, int threads) { return n < 65536 ? 1 : threads; }

void spell_swiglu_forward(spell_pool *pool, int threads, float *out, const float *gate,
                          const float *up, long n) {
  sw_ctx c = {out, NULL, NULL, gate, up, NULL, n};
  spell_pool_run(pool, threads_for(n, threads), fwd_task, &c);
}

void spell_swiglu_backward(spell_pool *pool, int threads, float *dgate, float *dup,
                           const float *dout, const float *gate, const float *up, long n) {
  sw_ctx c = {NULL, dgate, dup, gate, up, dout, n};
  spell_pool_run(pool, threads_for(n, threads), bwd_task, &c);
}
