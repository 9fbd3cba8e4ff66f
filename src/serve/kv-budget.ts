/**
 * Admission control for sampling: a sample's KV cache starts with room for its prompt and a few
 * tokens and grows as it generates, up to (prompt + max_tokens) positions — so that is what a
 * request is admitted for, and the budget bounds the memory all admitted requests can reach
 * together, while a request that stops early only ever holds what it used. A request that could
 * never fit the server's budget is a 400; one that does not fit next to the requests already
 * admitted (running or queued) is a 429, to retry later. Both name the limit.
 */
import { HttpError } from './http-util.ts';

const MIB = 1024 * 1024;

export class KvBudget {
  private inUse = 0;

  constructor(
    /** Bytes all admitted requests may hold together. */
    readonly budgetBytes: number,
    /** KV bytes per token position; undefined when the engine does not say (then nothing is checked). */
    readonly bytesPerToken: number | undefined,
  ) {}

  /** Bytes held by admitted requests now. */
  get inUseBytes(): number {
    return this.inUse;
  }

  /**
   * Admit a request of `tokens` KV positions (samples × (prompt + max_tokens)), run `work`, and
   * give the memory back when it settles.
   * @throws HttpError 400 when it can never fit, 429 when the budget is taken by other requests
   */
  claim<T>(tokens: number, what: string, work: () => Promise<T>): Promise<T> {
    if (this.bytesPerToken === undefined) return work();
    const bytes = tokens * this.bytesPerToken;
    const mib = (b: number): string => (b / MIB).toFixed(1);
    if (bytes > this.budgetBytes) {
      throw new HttpError(
        400,
        `${what} needs ${mib(bytes)} MiB of KV cache (${tokens} token positions: samples × (prompt + max_tokens)), more than this server's KV budget of ${mib(this.budgetBytes)} MiB (--kv-budget-mb); ask for fewer samples or tokens`,
      );
    }
    if (this.inUse + bytes > this.budgetBytes) {
      throw new HttpError(
        429,
        `${what} needs ${mib(bytes)} MiB of KV cache but ${mib(this.inUse)} of this server's ${mib(this.budgetBytes)} MiB KV budget (--kv-budget-mb) are taken by running requests; retry later`,
      );
    }
    this.inUse += bytes;
    let p: Promise<T>;
    try {
      p = work();
    } catch (err) {
      this.inUse -= bytes;
      throw err;
    }
    return p.finally(() => {
      this.inUse -= bytes;
    });
  }
}
