/**
 * A FIFO concurrency limiter: at most `limit` tasks run at once, the rest wait in arrival order.
 * It keeps a burst of evaluation requests from overrunning an inference server's queue.
 */
import { ConfigurationError } from '../../core/errors.ts';

export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new ConfigurationError(`concurrency limit must be a positive integer, got ${limit}`);
    }
  }

  /** Run `task` when a slot is free; the slot is released however the task ends. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter, so `active` never drops and rises again.
      if (next) next();
      else this.active--;
    }
  }
}
