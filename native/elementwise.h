/*
 * Elementwise kernels the profile singled out (SwiGLU's exp dominated the JS elementwise time of a
 * prefill): vectorised, split into contiguous ranges over the pool's threads (the bits of an
 * element never depend on the split).
 */
#ifndef SPELL_ELEMENTWISE_H
#define SPELL_ELEMENTWISE_H
#include "pool.h"

/* out[i] = silu(gate[i]) · up[i] */
void spell_swiglu_forward(spell_pool *pool, int threads, float *out, const float *gate,
                          const float *up, long n);

/* dup[i] += dout[i]·silu(g); dgate[i] += dout[i]·up[i]·σ(g)·(1 + g·(1 − σ(g))) */
void spell_swiglu_backward(spell_pool *pool, int threads, float *dgate, float *dup,
                           const float *dout, const float *gate, const float *up, long n);
#endif
