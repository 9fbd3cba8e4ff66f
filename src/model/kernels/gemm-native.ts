/**
 * Loads the optional native gemm addon (`native/build/Release/spell_gemm.node`, built at install
 * by `native/build-native.js`). A missing or broken build is not an error: the loader records
 * why, and `gemm` falls back to the JS path. The addon is context-aware N-API, so each worker
 * thread that imports this module gets its own instance.
 */
import { createRequire } from 'node:module';

/** What the addon reports about the kernel it was compiled with. */
export interface NativeGemmInfo {
  /** Instruction set the micro-kernel was compiled for: 'avx512' | 'avx2' | 'sse' | 'generic'. */
  readonly isa: string;
  /** Register tile: rows of C (MR) and columns of C (NR) per micro-kernel call. */
  readonly mr: number;
  readonly nr: number;
  /** attnForward/attnBackward take packed-sequence segments (absent in older builds). */
  readonly segments?: boolean;
}

/** The addon's surface. `threads` ≥ 1; the split never changes the result bits. */
export interface NativeGemmAddon {
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: Float32Array,
    B: Float32Array,
    C: Float32Array,
    accumulate: boolean,
    threads: number,
    /** Every row of C gets the bits it would get computed alone (see `gemmRows`). */
    rowStable?: boolean,
  ): void;
  /**
   * Flash-style causal GQA attention forward (see native/attention.h): writes out and lse. With
   * `segStart` (info().segments), row i sees keys [0, min(prefix, segStart[i])) and
   * [segStart[i], its position].
   */
  attnForward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    Tq: number,
    Tk: number,
    NH: number,
    NKV: number,
    HD: number,
    threads: number,
    segStart?: Int32Array | null,
    prefix?: number,
  ): void;
  /** Its backward: accumulates dq, dk, dv. */
  attnBackward(
    q: Float32Array,
    k: Float32Array,
    v: Float32Array,
    out: Float32Array,
    lse: Float32Array,
    dout: Float32Array,
    dq: Float32Array,
    dk: Float32Array,
    dv: Float32Array,
    Tq: number,
    Tk: number,
    NH: number,
    NKV: number,
    HD: number,
    threads: number,
    segStart?: Int32Array | null,
    prefix?: number,
  ): void;
  /** One decode row over a cache kc (NKV, HD, L), vc (NKV, L, HD): writes out (NH, HD). */
  attnDecode(
    q: Float32Array,
    kc: Float32Array,
    vc: Float32Array,
    out: Float32Array,
    L: number,
    Tk: number,
    NH: number,
    NKV: number,
    HD: number,
    threads: number,
  ): void;
  /** out = silu(gate)·up over n elements (native/elementwise.h). */
  swigluForward(
    out: Float32Array,
    gate: Float32Array,
    up: Float32Array,
    n: number,
    threads: number,
  ): void;
  /** Its backward, accumulating into dgate and dup. */
  swigluBackward(
    dgate: Float32Array,
    dup: Float32Array,
    dout: Float32Array,
    gate: Float32Array,
    up: Float32Array,
    n: number,
    threads: number,
  ): void;
  info(): NativeGemmInfo;
}

/** The addon, or the reason it is unavailable. */
export type NativeLoad =
  | { readonly ok: true; readonly addon: NativeGemmAddon; readonly path: string }
  | { readonly ok: false; readonly reason: string };

const ADDON_PATH = '../../../native/build/Release/spell_gemm.node';

function isAddon(mod: unknown): mod is NativeGemmAddon {
  if (typeof mod !== 'object' || mod === null) return false;
  const m = mod as Record<string, unknown>;
  return [
    'sgemm',
    'attnForward',
    'attnBackward',
    'attnDecode',
    'swigluForward',
    'swigluBackward',
    'info',
  ].every((name) => typeof m[name] === 'function');
}

/** Try to load the addon once; never throws. */
export function loadNativeGemm(): NativeLoad {
  const require = createRequire(import.meta.url);
  let path: string;
  try {
    path = require.resolve(ADDON_PATH);
  } catch {
    return { ok: false, reason: 'native addon not built (native/build/Release/spell_gemm.node)' };
  }
  try {
    const mod: unknown = require(path);
    if (!isAddon(mod))
      return {
        ok: false,
        reason: `${path} does not export sgemm/attn*/swiglu*/info (stale build? run npm run build:native)`,
      };
    return { ok: true, addon: mod, path };
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    return { ok: false, reason: `native addon failed to load: ${msg}` };
  }
}
