/*
 * Causal grouped-query attention kernels (see attention.c): a blocked, flash-style forward that
 * keeps only the log-sum-exp of each query row, the backward that recomputes the probabilities
 * from it, and the decode step of one query row over a KV cache. Threads come from the pool; the
 * result bits never depend on the thread count.
 *
 * Layouts (row-major): q (Tq, NH, HD); k, v (Tk, NKV, HD); out (Tq, NH, HD); lse (NH, Tq).
 * Query t sits at position Tk − Tq + t and sees keys 0..that position. Query head h reads KV head
 * h / (NH / NKV).
 */
#ifndef SPELL_ATTENTION_H
#define SPELL_ATTENTION_H
#include "pool.h"
#include <stdint.h>

/*
 * Segments of a packed sequence (several sequences sharing a prefix laid out one after another):
 * with seg non-NULL, query row i sees keys [0, min(prefix, seg[i])) and [seg[i], Tk − Tq + i]
 * instead of every key up to its position; seg[i] ≤ Tk − Tq + i, so each row sees itself. NULL
 * (prefix ignored) is the plain causal mask.
 */

/* out = softmax(q·kᵀ/√HD)·v, lse = log Σ exp(q·kᵀ/√HD) per row. Returns 0 when out of memory. */
int spell_attn_forward(spell_pool *pool, int threads, const float *q, const float *k,
                       const float *v, float *out, float *lse, long Tq, long Tk, int NH, int NKV,
                       int HD, const int32_t *seg, long prefix);

/* Accumulates dq, dk, dv (+=) from dout, given the forward's out and lse. 0 when out of memory. */
int spell_attn_backward(spell_pool *pool, int threads, const float *q, const float *k,
                        const float *v, const float *out, const float *lse, const float *dout,
                        float *dq, float *dk, float *dv, long Tq, long Tk, int NH, int NKV,
                        int HD, const int32_t *seg, long prefix);

/*
 * One query row (all NH heads, q (NH, HD)) at position Tk − 1 over a cache of L ≥ Tk positions laid
 * out kc (NKV, HD, L) (keys transposed) and vc (NKV, L, HD); writes out (NH, HD). The keys are cut
 * into fixed chunks merged in a fixed order, so the bits depend neither on the thread count nor
 * on other rows. Returns 0 when out of memory.
 */
int spell_attn_decode(spell_pool *pool, int threads, const float *q, const float *kc,
                      const float *vc, float *out, long L, long Tk, int NH, int NKV, int HD);
#endif
