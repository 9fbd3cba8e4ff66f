/**
 * The per-model request queue of `spell serve` (hosted Tinker semantics): a training model's
 * requests execute one at a time in `seq_id` order, whatever order they arrive in.
 *
 * - A request whose seq_id was already accepted with an identical body gets the original request
 *   id back (a safe retry: nothing runs twice). A different body under a used seq_id is a 409.
 * - A seq_id ahead of the next expected one waits for the gap to fill, up to `window` ahead;
 *   further ahead is a 400 (it could only stall the model).
 * - A request without seq_id takes the next free one.
 * Bookkeeping is bounded: dedup records older than `keep` seq_ids are dropped; such a resend is a 409.
 */
import { HttpError } from './http-util.ts';

interface SeqRecord {
  readonly bodyKey: string;
  readonly requestId: string;
  run: (() => Promise<unknown>) | undefined;
}

export class ModelQueue {
  /** Lowest seq_id not yet accepted. */
  private expected = 1;
  private highest = 0;
  private readonly records = new Map<number, SeqRecord>();
  private chain: Promise<unknown> = Promise.resolve();
  private readonly startedResolvers = new Map<number, (p: Promise<unknown>) => void>();

  constructor(
    private readonly modelId: string,
    /** Registers running work and returns its request id (the future store). */
    private readonly track: (work: Promise<unknown>) => string,
    private readonly window = 64,
    private readonly keep = 1024,
  ) {}

  /** How many seq_ids have been accepted in order (the next one to execute is this + 1). */
  get executedThrough(): number {
    return this.expected - 1;
  }

  /**
   * Accept one request. `check(seq)` may throw an HttpError to refuse it before it takes the seq_id
   * (e.g. load_weights that is not the first request).
   * @returns the request id of the (possibly earlier, identical) request.
   */
  submit(
    seqId: number | undefined,
    bodyKey: string,
    run: (seq: number) => Promise<unknown>,
    check?: (seq: number) => void,
  ): string {
    const seq = seqId ?? this.highest + 1;
    const old = this.records.get(seq);
    if (old) {
      if (old.bodyKey !== bodyKey) {
        throw new HttpError(
          409,
          `seq_id ${seq} of model ${this.modelId} was already used for a different request`,
        );
      }
      return old.requestId;
    } else if (seq < this.expected) {
      throw new HttpError(
        409,
        `seq_id ${seq} of model ${this.modelId} is already used (next expected: ${this.expected})`,
      );
    } else if (seq >= this.expected + this.window) {
      throw new HttpError(
        400,
        `seq_id ${seq} of model ${this.modelId} is out of order: the next expected seq_id is ${this.expected} (at most ${this.window - 1} ahead may wait)`,
      );
    }
    check?.(seq);
    // The future exists now; its work starts when all earlier seq_ids have run.
    let startWork!: (p: Promise<unknown>) => void;
    const started = new Promise<Promise<unknown>>((resolve) => (startWork = resolve));
    const work = started.then((p) => p);
    const requestId = this.track(work);
    const record: SeqRecord = { bodyKey, requestId, run: () => run(seq) };
    this.records.set(seq, record);
    this.startedResolvers.set(seq, startWork);
    this.highest = Math.max(this.highest, seq);
    this.drain();
    this.forget();
    return requestId;
  }

  private drain(): void {
    for (;;) {
      const rec = this.records.get(this.expected);
      const start = this.startedResolvers.get(this.expected);
      if (!rec || !start || !rec.run) return;
      const run = rec.run;
      rec.run = undefined;
      this.startedResolvers.delete(this.expected);
      this.expected++;
      const p = this.chain.then(run);
      this.chain = p.catch(() => undefined);
      start(p);
    }
  }

  private forget(): void {
    const floor = this.expected - this.keep;
    if (floor <= 0) return;
    for (const seq of this.records.keys()) if (seq < floor) this.records.delete(seq);
  }
}
