/**
 * Loading a peer package that may not be installed. The peers (onnxruntime-node, TensorFlow.js)
 * are deliberately not dependencies — they weigh hundreds of MB — so the bench imports them by
 * name at run time and, when that fails, reports how to install them instead of a figure.
 * Also holds the async timing loop the peers need (their runs return promises).
 */

/** What the report shows for a peer that could not be loaded. */
export interface PeerUnavailable {
  readonly available: false;
  /** The exact command that installs the peer without touching package.json. */
  readonly install: string;
  readonly reason: string;
}

/** A module that loaded, or the reason it did not. */
export type OptionalModule =
  | { readonly ok: true; readonly module: unknown }
  | {
      readonly ok: false;
      readonly reason: string;
    };

/** `import(specifier)`, turning "not installed" (or any load failure) into a value. */
export async function importOptional(specifier: string): Promise<OptionalModule> {
  try {
    const module: unknown = await import(specifier);
    return { ok: true, module };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? `${specifier} is not installed`
        : `${specifier} failed to load: ${err instanceof Error ? err.message : String(err)}`;
    return { ok: false, reason };
  }
}

/** True when `value` is an object (or class) whose `keys` are all functions (a cheap shape check). */
export function hasFunctions(value: unknown, keys: readonly string[]): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false;
  const rec = value as Record<string, unknown>;
  return keys.every((k) => typeof rec[k] === 'function');
}

/** Timing of repeated async runs, seconds (best is the figure, median is shown beside it). */
export interface AsyncTiming {
  readonly best: number;
  readonly median: number;
  readonly runs: number;
}

/** Like timing.ts's `timeRuns` for async work: one warm-up, then runs until the budget is spent. */
export async function timeRunsAsync(
  fn: () => Promise<void>,
  budgetMs: number,
  minRuns = 1,
  maxRuns = 1000,
): Promise<AsyncTiming> {
  await fn();
  const times: number[] = [];
  const start = performance.now();
  while (
    times.length < maxRuns &&
    (times.length < minRuns || performance.now() - start < budgetMs)
  ) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { best: times[0], median: times[Math.floor(times.length / 2)], runs: times.length };
}
