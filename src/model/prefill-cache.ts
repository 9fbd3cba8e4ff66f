/**
 * Recent prompt prefills, kept so a request whose prompt was just prefilled skips the prefill.
 *
 * `spell eval` asks for each question's samples as separate requests (sample j with seed S+j), and
 * a prompt of a thousand tokens costs far more to prefill than its short reply costs to decode, so
 * without this every sample paid the whole prompt again. An entry holds the prompt's keys and
 * values (the sample cache's first P positions) and the last position's logits: both are exactly
 * what the prefill would compute again, so a hit gives the same tokens as a miss. Entries are
 * valid only for the weights they were computed with; the owner clears the cache whenever the
 * weights change. Bounded in bytes, least recently used first out.
 */
import type { Qwen3Config } from './config.ts';
import { allocSampleCache, copyCachePrefix, type SampleCache } from './decode.ts';

/** What a prefill leaves behind: the prompt's keys/values and the next-token logits. */
export interface PrefillEntry {
  readonly cache: SampleCache;
  readonly logits: Float32Array;
}

/** Default bound: a few long prompts of a small model (SmolLM2-135M: 46 KB per token). */
export const DEFAULT_PREFILL_CACHE_BYTES = 256 * 1024 * 1024;

export class PrefillCache {
  private readonly entries = new Map<string, PrefillEntry & { readonly bytes: number }>();
  private used = 0;

  constructor(
    private readonly config: Qwen3Config,
    readonly maxBytes: number = DEFAULT_PREFILL_CACHE_BYTES,
  ) {}

  /** The entry for exactly this prompt, if kept (and marks it recently used). */
  get(prompt: readonly number[]): PrefillEntry | undefined {
    const key = prompt.join(',');
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  /** Keep the first P positions of `cache` and the logits for this prompt, if they fit. */
  put(prompt: readonly number[], cache: SampleCache, logits: Float32Array): void {
    const P = prompt.length;
    const c = this.config;
    const bytes = (2 * c.numLayers * c.numKvHeads * c.headDim * P + logits.length) * 4;
    if (bytes > this.maxBytes) return;
    const key = prompt.join(',');
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.used -= old.bytes;
    }
    while (this.used + bytes > this.maxBytes) {
      const [oldest, entry] = this.entries.entries().next().value as [
        string,
        { readonly bytes: number },
      ];
      this.entries.delete(oldest);
      this.used -= entry.bytes;
    }
    const kept = allocSampleCache(c, P);
    copyCachePrefix(c, cache, kept, P);
    this.entries.set(key, { cache: kept, logits: logits.slice(), bytes });
    this.used += bytes;
  }

  /** Forget every entry (the weights changed). */
  clear(): void {
    this.entries.clear();
    this.used = 0;
  }

  /** Bytes held now. */
  get bytes(): number {
    return this.used;
  }

  /** Entries held now. */
  get size(): number {
    return this.entries.size;
  }
}
