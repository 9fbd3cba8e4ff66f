/**
 * The KV ledger: sampling counters in a SharedArrayBuffer, shared by every model worker of a
 * process (one per engine of `spell serve`) and the main thread. A worker decoding in a tight loop
 * cannot answer messages quickly, so the memory its KV caches hold, the budget they must stay
 * under, and the tokens it generated are kept here, where the others read them at once with
 * Atomics and a worker can claim memory without asking anyone.
 *
 * Bytes are exact: a worker reserves what it is about to allocate (a request's first caches, the
 * growth of one decode step) and gives back what it frees, so `inUse` is what the caches hold.
 */

const IN_USE = 0;
const PEAK = 1;
const BUDGET = 2;
const TOKENS = 3;
const CANCELLED = 4;
const PREEMPTED = 5;
const TICKET = 6;
const FIELDS = 7;

/** What the ledger says now (numbers: everything fits in 2^53). */
export interface KvLedgerSnapshot {
  /** Bytes the KV caches of running samples hold. */
  readonly inUseBytes: number;
  /** The most they ever held together. */
  readonly peakBytes: number;
  /** The limit (Infinity: none). */
  readonly budgetBytes: number;
  /** Tokens sampled (first tokens and decode steps). */
  readonly tokensGenerated: number;
  /** Sample requests stopped before they finished because their caller went away. */
  readonly requestsCancelled: number;
  /** Sample requests preempted (caches freed, recomputed later) to stay within the budget. */
  readonly preemptions: number;
}

export class KvLedger {
  private readonly a: BigInt64Array;

  /** A ledger on an existing buffer (a worker's view of its parent's ledger). */
  constructor(readonly buffer: SharedArrayBuffer) {
    if (buffer.byteLength !== FIELDS * 8) {
      throw new RangeError(
        `KV ledger buffer has ${buffer.byteLength} bytes, expected ${FIELDS * 8}`,
      );
    }
    this.a = new BigInt64Array(buffer);
  }

  /** A new ledger with this budget in bytes (Infinity or undefined: counters only, no limit). */
  static create(budgetBytes?: number): KvLedger {
    const ledger = new KvLedger(new SharedArrayBuffer(FIELDS * 8));
    const b =
      budgetBytes === undefined || !Number.isFinite(budgetBytes)
        ? -1n
        : BigInt(Math.max(0, Math.floor(budgetBytes)));
    Atomics.store(ledger.a, BUDGET, b);
    return ledger;
  }

  get budgetBytes(): number {
    const b = Atomics.load(this.a, BUDGET);
    return b < 0n ? Infinity : Number(b);
  }

  get inUseBytes(): number {
    return Number(Atomics.load(this.a, IN_USE));
  }

  /** Claim `bytes` if the total stays within the budget; false (nothing claimed) if not. */
  tryReserve(bytes: number): boolean {
    const add = BigInt(Math.ceil(bytes));
    const budget = Atomics.load(this.a, BUDGET);
    for (;;) {
      const cur = Atomics.load(this.a, IN_USE);
      if (budget >= 0n && add > 0n && cur + add > budget) return false;
      if (Atomics.compareExchange(this.a, IN_USE, cur, cur + add) === cur) {
        this.notePeak(cur + add);
        return true;
      }
    }
  }

  /** Give back `bytes` claimed earlier. */
  release(bytes: number): void {
    if (bytes !== 0) Atomics.sub(this.a, IN_USE, BigInt(Math.ceil(bytes)));
  }

  countTokens(n: number): void {
    if (n > 0) Atomics.add(this.a, TOKENS, BigInt(n));
  }

  countCancelled(): void {
    Atomics.add(this.a, CANCELLED, 1n);
  }

  countPreempted(): void {
    Atomics.add(this.a, PREEMPTED, 1n);
  }

  /** A process-wide increasing number: the age order of sample requests across workers. */
  nextTicket(): number {
    return Number(Atomics.add(this.a, TICKET, 1n));
  }

  snapshot(): KvLedgerSnapshot {
    const n = (i: number): number => Number(Atomics.load(this.a, i));
    return {
      inUseBytes: n(IN_USE),
      peakBytes: n(PEAK),
      budgetBytes: this.budgetBytes,
      tokensGenerated: n(TOKENS),
      requestsCancelled: n(CANCELLED),
      preemptions: n(PREEMPTED),
    };
  }

  private notePeak(total: bigint): void {
    for (;;) {
      const peak = Atomics.load(this.a, PEAK);
      if (total <= peak || Atomics.compareExchange(this.a, PEAK, peak, total) === peak) return;
    }
  }
}
