/**
 * The SwiGLU gate of the MLP: h = silu(gate) · up, silu(g) = g · σ(g). Float32 buffers go to the
 * native addon when it is active (vectorised exp, both cores: this loop was the largest
 * elementwise cost of a prefill); float64 buffers (the finite-difference tests) stay here.
 */
import type { Floats } from './floats.ts';
import { activeNativeAddon, gemmThreads } from './gemm.ts';

/** out (n) = silu(gate) · up. */
export function swigluForward(out: Floats, gate: Floats, up: Floats, n: number): void {
  const addon = activeNativeAddon();
  if (
    addon &&
    out instanceof Float32Array &&
    gate instanceof Float32Array &&
    up instanceof Float32Array
  ) {
    addon.swigluForward(out, gate, up, n, gemmThreads());
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    out[i] = (g / (1 + Math.exp(-g))) * up[i];
  }
}

/**
 * Inverts `out = silu(gate) · up`: dup += dout · silu(g),
 * dgate += dout · up · σ(g) · (1 + g · (1 − σ(g))). Accumulates.
 */
export function swigluBackward(
  dgate: Floats,
  dup: Floats,
  dout: Floats,
  gate: Floats,
  up: Floats,
  n: number,
): void {
  const addon = activeNativeAddon();
  if (
    addon &&
    dgate instanceof Float32Array &&
    dup instanceof Float32Array &&
    dout instanceof Float32Array &&
    gate instanceof Float32Array &&
    up instanceof Float32Array
  ) {
    addon.swigluBackward(dgate, dup, dout, gate, up, n, gemmThreads());
    return;
  }
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const sig = 1 / (1 + Math.exp(-g));
    dup[i] += dout[i] * g * sig;
    dgate[i] += dout[i] * up[i] * sig * (1 + g * (1 - sig));
  }
}
