/*
 * Vector helpers shared by the native kernels: the vector type of the build's ISA and a vectorised
 * e^x (see vexp). GCC/Clang vector extensions, compiled with -march=native.
 */
#ifndef SPELL_VMATH_H
#define SPELL_VMATH_H
#include <stdint.h>

#if defined(__AVX512F__)
#define VW 16
#elif defined(__AVX__)
#define VW 8
#else
#define VW 4
#endif
typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));

static inline vf splat(float x) { return (vf){0} + x; }

static inline vf vmax(vf a, vf b) {
  const vi m = a > b;
  return (vf)(((vi)a & m) | ((vi)b & ~m));
}

/*
 * e^x, vectorised: x = n·ln2 + r with n = round(x·log2 e) (Cody–Waite two-constant split of ln2,
 * so r is exact to float precision), e^r by its degree-6 Taylor polynomial (|r| ≤ ln2/2: error
 * below 1.3e-7 relative), 2^n built in the exponent bits. x < −87 (including −inf, the causal
 * mask) gives exactly 0; callers pass x ≤ 0.
 */
static inline vf vexp(vf x) {
  const vi under = x < splat(-87.0f);
  x = vmax(x, splat(-87.0f));
  const vf magic = splat(12582912.0f); /* 1.5·2^23: adding it rounds to an integer */
  const vf n = (x * splat(1.44269504088896341f) + magic) - magic;
  vf r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  vf p = splat(1.0f / 720.0f);
  p = p * r + splat(1.0f / 120.0f);
  p = p * r + splat(1.0f / 24.0f);
  p = p * r + splat(1.0f / 6.0f);
  p = p * r + splat(0.5f);
  p = p * r + splat(1.0f);
  p = p * r + splat(1.0f);
  const vi bits = (__builtin_convertvector(n, vi) + 127) << 23;
  return (vf)((vi)(p * (vf)bits) & ~under);
}

#endif
