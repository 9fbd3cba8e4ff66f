import { describe, expect, test } from 'vitest';
import { HttpError } from './http-util.ts';
import { ModelQueue } from './model-queue.ts';

function queue(window = 4) {
  const ran: number[] = [];
  const futures: Promise<unknown>[] = [];
  const q = new ModelQueue('m', (work) => String(futures.push(work)), window);
  const run = (seq: number) => () => {
    ran.push(seq);
    return Promise.resolve(seq);
  };
  return { q, ran, futures, run };
}

describe('ModelQueue', () => {
  test('requests run in seq_id order whatever order they arrive in', async () => {
    const { q, ran, futures, run } = queue();
    q.submit(3, 'c', run(3));
    q.submit(2, 'b', run(2));
    expect(q.executedThrough).toBe(0);
    q.submit(1, 'a', run(1));
    await Promise.all(futures);
    expect(ran).toEqual([1, 2, 3]);
    expect(q.executedThrough).toBe(3);
  });

  test('an identical resend returns the original request id and runs nothing again', async () => {
    const { q, ran, futures, run } = queue();
    const id = q.submit(1, 'a', run(1));
    expect(q.submit(1, 'a', run(1))).toBe(id);
    await Promise.all(futures);
    expect(ran).toEqual([1]);
  });

  test('a used seq_id with another body is a 409; too far ahead is a 400; none takes the next', () => {
    const { q, run } = queue(4);
    q.submit(1, 'a', run(1));
    expect(() => q.submit(1, 'other', run(1))).toThrow(
      expect.objectContaining({ status: 409 }) as HttpError,
    );
    expect(() => q.submit(6, 'f', run(6))).toThrow(/out of order: the next expected seq_id is 2/);
    q.submit(undefined, 'b', run(2));
    expect(q.executedThrough).toBe(2);
  });

  test('a refused check leaves the seq_id free', () => {
    const { q, run } = queue();
    expect(() =>
      q.submit(1, 'a', run(1), () => {
        throw new HttpError(400, 'no');
      }),
    ).toThrow('no');
    q.submit(1, 'b', run(1));
    expect(q.executedThrough).toBe(1);
  });
});
