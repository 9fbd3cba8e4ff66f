/**
 * The controller's view of the policy: renders role prompts with the model's chat template, sends
 * token ids to the PolicyEngine with every request of a phase in flight together, and decodes the
 * answers. Tokenization belongs here, not in the engine (architecture.md).
 */
import type {
  LossAggregation,
  PolicyEngine,
  SampledSequence,
  StopReason,
} from '../engine/types.ts';
import type { HfTokenizer } from '../text/tokenizer.ts';
import { renderChat } from '../text/chat.ts';

export interface Generation {
  /** Decoded text, special tokens skipped (as the reference decodes). */
  readonly text: string;
  readonly tokens: readonly number[];
  readonly logprobs: readonly number[];
  readonly stopReason: StopReason;
}

/**
 * An opened engine with what training needs to know about it: the tokenizer its prompts are
 * rendered with and how it aggregates the loss (the datums are scaled to match).
 */
export interface EngineHandle {
  readonly engine: PolicyEngine;
  readonly tokenizer: HfTokenizer;
  readonly lossAggregation: LossAggregation;
}

export interface PolicyOptions {
  readonly maxResponseTokens: number;
  readonly temperature: number;
  readonly topP: number;
  readonly topK: number;
  readonly enableThinking: boolean;
  /** Requests kept in flight at once (a remote engine batches them; the local one queues them). */
  readonly concurrency: number;
}

export class RolePolicy {
  private readonly stopTokenIds: number[];
  readonly engine: PolicyEngine;
  readonly tokenizer: HfTokenizer;
  /** How the engine aggregates the loss (set by the engine, read where datums are built). */
  readonly lossAggregation: LossAggregation;
  /** Wall-clock seconds spent waiting on the engine's sampling (for the step's time breakdown). */
  sampleSeconds = 0;

  constructor(
    handle: EngineHandle,
    private readonly opts: PolicyOptions,
  ) {
    this.engine = handle.engine;
    this.tokenizer = handle.tokenizer;
    this.lossAggregation = handle.lossAggregation;
    this.stopTokenIds = [...handle.tokenizer.endOfTurnIds()];
  }

  /** One user message rendered with the generation prompt, as token ids. */
  render(userText: string): number[] {
    return renderChat(this.tokenizer, [{ role: 'user', content: userText }], {
      addGenerationPrompt: true,
      enableThinking: this.opts.enableThinking,
    }).ids;
  }

  countTokens(text: string): number {
    return this.tokenizer.encode(text, { addSpecialTokens: false }).length;
  }

  /**
   * Sample `n` answers for every prompt. Seeds are fixed before any request is sent (prompt i uses
   * seeds[i]), so results do not depend on completion order.
   */
  async sampleAll(
    prompts: readonly (readonly number[])[],
    n: number,
    seeds: readonly number[],
  ): Promise<Generation[][]> {
    const out: Generation[][] = new Array<Generation[]>(prompts.length);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < prompts.length) {
        const i = next++;
        const res = await this.engine.sample({
          prompt: prompts[i],
          numSamples: n,
          params: {
            maxTokens: this.opts.maxResponseTokens,
            temperature: this.opts.temperature,
            topP: this.opts.topP,
            topK: this.opts.topK,
            stopTokenIds: this.stopTokenIds,
            seed: seeds[i],
          },
        });
        out[i] = res.sequences.map((s) => this.decode(s));
      }
    };
    const lanes = Math.max(1, Math.min(this.opts.concurrency, prompts.length));
    const t0 = performance.now();
    try {
      await Promise.all(Array.from({ length: lanes }, worker));
    } finally {
      this.sampleSeconds += (performance.now() - t0) / 1000;
    }
    return out;
  }

  private decode(seq: SampledSequence): Generation {
    return {
      text: this.tokenizer.decode(seq.tokens, { skipSpecialTokens: true }),
      tokens: seq.tokens,
      logprobs: seq.logprobs,
      stopReason: seq.stopReason,
    };
  }
}
