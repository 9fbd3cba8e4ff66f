/**
 * Server-side futures for `spell serve`: each future-returning request gets a request id at once;
 * `retrieve_future` long-polls the id until the work settles or the hold time passes.
 *
 * Settled results are kept for the most recent `capacity` futures; an older (evicted) id answers
 * 410, which tells Tinker clients to re-submit (the (model_id, seq_id) de-duplication then hands
 * back this same id only while it is still kept — see model-queue.ts).
 */
import { CheckpointError, DataError, EngineError } from '../core/errors.ts';
import { HttpError } from './http-util.ts';

export type FutureState =
  | { readonly status: 'pending' }
  | { readonly status: 'done'; readonly result: unknown }
  | { readonly status: 'failed'; readonly error: string; readonly category: 'user' | 'server' };

interface Entry {
  state: FutureState;
  waiters: (() => void)[];
}

/** 'user' when the request itself was wrong (bad data, shapes, checkpoint), else 'server'. */
export function errorCategory(err: unknown): 'user' | 'server' {
  if (err instanceof DataError || err instanceof EngineError || err instanceof CheckpointError) {
    return 'user';
  }
  if (err instanceof HttpError && err.status < 500) return 'user';
  return 'server';
}

export class FutureStore {
  private nextId = 1;
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = 4096) {}

  /** Register `work` (already running) and return its request id. */
  track(work: Promise<unknown>): string {
    const id = String(this.nextId++);
    const entry: Entry = { state: { status: 'pending' }, waiters: [] };
    this.entries.set(id, entry);
    const settle = (state: FutureState): void => {
      entry.state = state;
      for (const w of entry.waiters.splice(0)) w();
    };
    work.then(
      (result) => settle({ status: 'done', result }),
      (err: unknown) =>
        settle({
          status: 'failed',
          error: err instanceof Error ? err.message : String(err),
          category: errorCategory(err),
        }),
    );
    this.evict();
    return id;
  }

  /** Whether an id is still known (issued and not evicted). */
  has(id: string): boolean {
    return this.entries.has(id);
  }

  /**
   * Wait up to `holdMs` for the future to settle.
   * @throws HttpError 404 for an id never issued, 410 for an evicted one.
   */
  async wait(id: string, holdMs: number): Promise<FutureState> {
    const entry = this.entries.get(id);
    if (!entry) {
      const n = Number(id);
      if (Number.isInteger(n) && n >= 1 && n < this.nextId) {
        throw new HttpError(410, `future ${id} has expired; re-submit the original request`);
      }
      throw new HttpError(404, `unknown request_id '${id}'`);
    }
    if (entry.state.status !== 'pending' || holdMs <= 0) return entry.state;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        const i = entry.waiters.indexOf(done);
        if (i >= 0) entry.waiters.splice(i, 1);
        resolve();
      }, holdMs);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      entry.waiters.push(done);
    });
    return entry.state;
  }

  private evict(): void {
    if (this.entries.size <= this.capacity) return;
    for (const [id, entry] of this.entries) {
      if (this.entries.size <= this.capacity) break;
      if (entry.state.status !== 'pending') this.entries.delete(id);
    }
  }
}
