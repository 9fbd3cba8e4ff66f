/**
 * Tokenization off the main thread for `spell serve`: one worker thread owns the tokenizer and
 * renders/encodes prompts, so a multi-megabyte prompt delays only other tokenizations, never health
 * checks or Tinker calls. Memory goes back: the worker is replaced after a large job (its heap
 * is freed with it) and it runs under a heap limit, so an enormous prompt fails alone (413) instead
 * of growing the server.
 */
import { Worker } from 'node:worker_threads';
import { tsWorkerBootstrap } from '../core/ts-worker.ts';
import { ConfigurationError, DataError } from '../core/errors.ts';
import type { ChatMessage, RenderOptions } from '../text/chat.ts';
import { HttpError } from './http-util.ts';

export type TokenizerJob =
  | {
      readonly id: number;
      readonly op: 'encode';
      readonly text: string;
      readonly addSpecialTokens: boolean;
    }
  | {
      readonly id: number;
      readonly op: 'chat';
      readonly messages: readonly ChatMessage[];
      readonly options: RenderOptions;
    };

export type TokenizerReply =
  | { readonly id: number; readonly ok: true; readonly ids: number[] }
  | {
      readonly id: number;
      readonly ok: false;
      readonly errorName: string;
      readonly message: string;
    };

type Ready = { readonly ready: true; readonly longestTokenChars: number };

/** What the OpenAI routes need from a tokenizer that may live elsewhere. */
export interface PromptEncoder {
  encode(text: string, addSpecialTokens: boolean): Promise<number[]>;
  renderChat(messages: readonly ChatMessage[], options: RenderOptions): Promise<number[]>;
  /** Characters of the longest vocabulary entry (bounds the text one token can cover). */
  longestTokenChars(): Promise<number>;
  close(): Promise<void>;
}

/** Text longer than this (characters, all jobs together since the last restart) retires the worker afterwards. */
const RECYCLE_CHARS = 4 * 1024 * 1024;
/** The worker's heap cap; a job that needs more fails with 413 rather than growing the server. */
const WORKER_HEAP_MB = 1024;

interface Live {
  readonly worker: Worker;
  readonly ready: Promise<Ready>;
  readonly pending: Map<number, { resolve(ids: number[]): void; reject(err: Error): void }>;
  chars: number;
}

/** A tokenizer folder served by a worker thread (started lazily, restarted as needed). */
export class TokenizerPool implements PromptEncoder {
  private live: Live | undefined;
  private nextId = 1;
  private closed = false;
  private longest: number | undefined;

  /** Workers started so far (a recycled worker is replaced by a new one). */
  workersStarted = 0;

  constructor(
    private readonly dir: string,
    private readonly recycleChars = RECYCLE_CHARS,
  ) {}

  encode(text: string, addSpecialTokens: boolean): Promise<number[]> {
    return this.submit({ id: this.nextId++, op: 'encode', text, addSpecialTokens }, text.length);
  }

  renderChat(messages: readonly ChatMessage[], options: RenderOptions): Promise<number[]> {
    let chars = 0;
    for (const m of messages) chars += m.content.length + (m.reasoning_content?.length ?? 0);
    return this.submit({ id: this.nextId++, op: 'chat', messages, options }, chars);
  }

  async longestTokenChars(): Promise<number> {
    if (this.longest === undefined) this.longest = (await this.start().ready).longestTokenChars;
    return this.longest;
  }

  async close(): Promise<void> {
    this.closed = true;
    const live = this.live;
    this.live = undefined;
    if (live) await live.worker.terminate();
  }

  private start(): Live {
    if (this.closed) throw new HttpError(503, 'the server is shutting down');
    if (this.live) return this.live;
    const worker = new Worker(
      tsWorkerBootstrap(new URL('./tokenizer-worker.ts', import.meta.url)),
      {
        eval: true,
        workerData: { dir: this.dir },
        resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB },
      },
    );
    worker.unref();
    this.workersStarted++;
    const pending: Live['pending'] = new Map();
    let markReady!: (r: Ready) => void;
    let failReady!: (e: Error) => void;
    const ready = new Promise<Ready>((res, rej) => {
      markReady = res;
      failReady = rej;
    });
    ready.catch(() => undefined);
    const live: Live = { worker, ready, pending, chars: 0 };
    worker.on('message', (msg: Ready | TokenizerReply) => {
      if ('ready' in msg) return markReady(msg);
      const p = pending.get(msg.id);
      if (!p) return;
      pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.ids);
      else p.reject(toError(msg.errorName, msg.message));
      if (pending.size === 0 && live.chars > this.recycleChars) this.retire(live);
    });
    const die = (err: Error): void => {
      if (this.live === live) this.live = undefined;
      const oom = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      const answer = oom
        ? new HttpError(413, `the prompt is too large to tokenize within ${WORKER_HEAP_MB} MiB`)
        : new HttpError(500, `the tokenizer worker stopped: ${err.message}`);
      failReady(answer);
      for (const p of pending.values()) p.reject(answer);
      pending.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`exit code ${code}`)));
    this.live = live;
    return live;
  }

  private retire(live: Live): void {
    if (this.live === live) this.live = undefined;
    void live.worker.terminate();
  }

  private submit(job: TokenizerJob, chars: number): Promise<number[]> {
    let live: Live;
    try {
      live = this.start();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    live.chars += chars;
    // Pending from now on, so the worker is not recycled under a job waiting for it to load.
    return new Promise<number[]>((resolve, reject) => {
      live.pending.set(job.id, { resolve, reject });
      live.ready.then(
        () => live.worker.postMessage(job),
        () => undefined, // `die` rejected the pending job already
      );
    });
  }
}

function toError(name: string, message: string): Error {
  if (name === 'DataError') return new DataError(message);
  if (name === 'ConfigurationError') return new ConfigurationError(message);
  return new HttpError(400, message);
}
