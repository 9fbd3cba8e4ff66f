/**
 * Admission control for sampling. A sample's KV cache starts with room for its prompt and 64
 * tokens and grows as it generates, up to (prompt + max_tokens) positions; most samples stop long
 * before. So the memory is bounded where it is spent, by what the caches hold now: every engine's
 * worker accounts its caches in one shared ledger (model/kv-ledger.ts) and starts a request only
 * when its first caches fit the budget; a decode step that would grow past it preempts the
 * youngest request (its caches are freed and recomputed later), so the budget is never exceeded.
 *
 * Here, at the door, requests are counted at their worst case (samples × (prompt + max_tokens)):
 * one that could never fit the budget alone is a 400; and the worst cases of all admitted requests
 * (running or queued) may add up to `overcommit` × the budget — past that a request is a 429 to
 * retry. The over-commit bounds the queue and how much preemption can happen.
 */
import { KvLedger } from '../model/index.ts';
import { HttpError } from './http-util.ts';

const MIB = 1024 * 1024;

/** Default over-commit: admitted worst cases may add up to this many times the budget. */
export const DEFAULT_KV_OVERCOMMIT = 4;

export class KvBudget {
  private reserved = 0;
  /** What the engines' caches hold now, shared with their workers. */
  readonly ledger: KvLedger;

  constructor(
    /** Bytes the KV caches of all running samples may hold together. */
    readonly budgetBytes: number,
    /** KV bytes per token position; undefined when the engine does not say (then the door checks nothing). */
    readonly bytesPerToken: number | undefined,
    /** How many times the budget the worst cases of admitted requests may add up to (≥ 1). */
    readonly overcommit = DEFAULT_KV_OVERCOMMIT,
  ) {
    this.ledger = KvLedger.create(budgetBytes);
  }

  /** Bytes the caches of running samples hold now. */
  get inUseBytes(): number {
    return this.ledger.inUseBytes;
  }

  /** Worst-case bytes of the requests admitted now (running or queued). */
  get reservedBytes(): number {
    return this.reserved;
  }

  /**
   * Admit a request of at most `tokens` KV positions (samples × (prompt + max_tokens)), run
   * `work`, and count it out when it settles.
   * @throws HttpError 400 when it can never fit, 429 when the over-commit limit is reached
   */
  claim<T>(tokens: number, what: string, work: () => Promise<T>): Promise<T> {
    if (this.bytesPerToken === undefined) return work();
    const bytes = tokens * this.bytesPerToken;
    const mib = (b: number): string => (b / MIB).toFixed(1);
    if (bytes > this.budgetBytes) {
      throw new HttpError(
        400,
        `${what} needs up to ${mib(bytes)} MiB of KV cache (${tokens} token positions: samples × (prompt + max_tokens)), more than this server's KV budget of ${mib(this.budgetBytes)} MiB (--kv-budget-mb); ask for fewer samples or tokens`,
      );
    }
    const limit = this.overcommit * this.budgetBytes;
    if (this.reserved + bytes > limit) {
      throw new HttpError(
        429,
        `${what} needs up to ${mib(bytes)} MiB of KV cache, but the requests already admitted may need ${mib(this.reserved)} MiB, and this server admits up to ${this.overcommit} × its ${mib(this.budgetBytes)} MiB KV budget (--kv-budget-mb, --kv-overcommit); retry later`,
      );
    }
    this.reserved += bytes;
    let p: Promise<T>;
    try {
      p = work();
    } catch (err) {
      this.reserved -= bytes;
      throw err;
    }
    return p.finally(() => {
      this.reserved -= bytes;
    });
  }
}
