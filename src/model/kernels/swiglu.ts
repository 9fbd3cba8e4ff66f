/**
 * The SwiGLU gate of the Qwen3 MLP: h = silu(gate) · up, silu(g) = g · σ(g).
 */
import type { Floats } from './floats.ts';

/** out (n) = silu(gate) · up. */
export function swigluForward(out: Floats, gate: Floats, up: Floats, n: number): void {
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
  for (let i = 0; i < n; i++) {
    const g = gate[i];
    const sig = 1 / (1 + Math.exp(-g));
    dup[i] += dout[i] * g * sig;
    dgate[i] += dout[i] * up[i] * sig * (1 + g * (1 - sig));
  }
}
