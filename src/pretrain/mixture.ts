/**
 * The shuffled stream of mixed examples pretraining consumes: each draw picks a role by weight,
 * then a cluster uniformly (clusters are balanced across tasks), then builds the example from the
 * role's row of one table (text roles from a cluster, token drills from their vocabularies). One
 * `Rng` drives everything, so the stream is a pure function of the seed (and resumable from the
 * RNG state). Pure and synchronous.
 */
import type { Rng } from '../core/rng.ts';
import type { HfTokenizer } from '../text/index.ts';
import type { QaCluster } from './clusters.ts';
import { encodeExample, type EncodedExample, type EncodeOptions } from './encode.ts';
import {
  copyExample,
  repeatExample,
  EXAMPLE_ROLES,
  groundingExample,
  lmExample,
  questionerExample,
  responderExample,
  verifierExample,
  type ExampleOptions,
  type ExampleRole,
  type TextExample,
} from './examples.ts';
import { inductionExample, type InductionVocab } from './induction.ts';
import { pointerExample } from './pointer.ts';
import { QUOTE_MAX_TOKENS, quoteExample } from './quote.ts';

/** Relative weight of each role in the stream (need not sum to 1). */
export type RoleWeights = Readonly<Record<ExampleRole, number>>;

/**
 * The default mix, in examples. Responder prompts hold every document of a cluster, so one costs
 * about four questioner prompts of compute; the weights keep the compute per role comparable.
 * `copy`, `repeat`, `induction`, `quote` and `pointer` are off by default (the bundled model's later stages turn them on with
 * --role-weights).
 */
export const DEFAULT_ROLE_WEIGHTS: RoleWeights = {
  lm: 0.15,
  questioner: 0.3,
  responder: 0.17,
  grounding: 0.08,
  verifier: 0.3,
  copy: 0,
  repeat: 0,
  induction: 0,
  quote: 0,
  pointer: 0,
};

/** Share of questioner examples that show history examples. */
const HISTORY_SHARE = 0.35;

/**
 * Pick a role by weight.
 * @throws RangeError when no weight is positive.
 */
export function drawRole(weights: RoleWeights, rng: Rng): ExampleRole {
  const total = EXAMPLE_ROLES.reduce((s, r) => s + Math.max(0, weights[r]), 0);
  if (!(total > 0)) throw new RangeError('role weights must have at least one positive entry');
  let u = rng.next() * total;
  for (const r of EXAMPLE_ROLES) {
    u -= Math.max(0, weights[r]);
    if (u < 0 && weights[r] > 0) return r;
  }
  // Rounding at the very top of the range: the last role with a positive weight.
  return [...EXAMPLE_ROLES].reverse().find((r) => weights[r] > 0) as ExampleRole;
}

/** The token-id vocabularies of the drills. */
export interface DrillVocabs {
  readonly induction: InductionVocab;
  readonly pointer: InductionVocab;
}

/** Everything a role needs to become training tokens. */
export interface ExampleContext {
  readonly tok: HfTokenizer;
  readonly examples: ExampleOptions;
  readonly encode: EncodeOptions;
  /** null: the tokenizer cannot pose the drills (they must then have weight 0). */
  readonly drills: DrillVocabs | null;
  readonly drillChatShare: number;
}

/** One row per role: how its examples are built, named and held out. */
interface RoleSpec {
  /** Its name in progress lines. */
  readonly short: string;
  /**
   * Where its held-out examples come from. `shared`: the first five roles draw from one stream,
   * task by task; `own`: each role added later draws from a stream of its own, so adding it left
   * the others' held-out sets, and earlier runs' held-out losses, unchanged.
   */
  readonly heldOut: 'shared' | 'own';
  /** Text roles: one example from a cluster. */
  readonly text?: (cluster: QaCluster, rng: Rng, opts: ExampleOptions) => TextExample;
  /** Token drills: one example straight from the drill vocabularies (no cluster). */
  readonly drill?: (rng: Rng, vocabs: DrillVocabs, chatShare: number) => EncodedExample;
}

export const ROLE_TABLE: Readonly<Record<ExampleRole, RoleSpec>> = {
  lm: { short: 'lm', heldOut: 'shared', text: (c, rng) => lmExample(c, rng) },
  questioner: {
    short: 'q',
    heldOut: 'shared',
    text: (c, rng, o) => questionerExample(c, rng, rng.next() < HISTORY_SHARE, o),
  },
  responder: { short: 'r', heldOut: 'shared', text: (c, rng, o) => responderExample(c, rng, o) },
  grounding: { short: 'g', heldOut: 'shared', text: (c, rng) => groundingExample(c, rng) },
  verifier: { short: 'v', heldOut: 'shared', text: (c, rng) => verifierExample(c, rng) },
  copy: { short: 'c', heldOut: 'own', text: (c, rng) => copyExample(c, rng) },
  repeat: { short: 'rep', heldOut: 'own', text: (c, rng) => repeatExample(c, rng) },
  induction: {
    short: 'ind',
    heldOut: 'own',
    drill: (rng, v, share) => inductionExample(rng, v.induction, share),
  },
  quote: {
    short: 'quo',
    heldOut: 'own',
    text: (c, rng, o) => quoteExample(c, rng, o.countTokens, QUOTE_MAX_TOKENS),
  },
  pointer: {
    short: 'ptr',
    heldOut: 'own',
    drill: (rng, v, share) => pointerExample(rng, v.pointer, share),
  },
};

/**
 * Build one text example of `role` from `cluster`.
 * @throws RangeError for a token drill (see `encodedExample`).
 */
export function buildExample(
  role: ExampleRole,
  cluster: QaCluster,
  rng: Rng,
  opts: ExampleOptions,
): TextExample {
  const build = ROLE_TABLE[role].text;
  if (build === undefined)
    throw new RangeError(`the ${role} drill is built from token ids, not text`);
  return build(cluster, rng, opts);
}

/**
 * One example of `role` as tokens: a text role draws its cluster from `clusters` first (the same
 * draws as `drawExample`), a drill draws token ids.
 * @throws RangeError for a drill when the context has no drill vocabularies.
 */
export function encodedExample(
  role: ExampleRole,
  clusters: readonly QaCluster[],
  rng: Rng,
  ctx: ExampleContext,
): EncodedExample {
  const drill = ROLE_TABLE[role].drill;
  if (drill !== undefined && ctx.drills !== null) return drill(rng, ctx.drills, ctx.drillChatShare);
  return encodeExample(
    ctx.tok,
    buildExample(role, rng.choice(clusters), rng, ctx.examples),
    ctx.encode,
  );
}

/**
 * Draw the next example of the stream.
 * @throws RangeError on an empty cluster list.
 */
export function drawExample(
  clusters: readonly QaCluster[],
  weights: RoleWeights,
  rng: Rng,
  opts: ExampleOptions,
): TextExample {
  const role = drawRole(weights, rng);
  return buildExample(role, rng.choice(clusters), rng, opts);
}

/**
 * Parse `--role-weights`, e.g. "lm=0.1,questioner=0.2,copy=0.5": roles not named keep their
 * default weight.
 * @throws RangeError naming the bad entry (unknown role, not a number ≥ 0, or no positive weight).
 */
export function parseRoleWeights(
  spec: string,
  base: RoleWeights = DEFAULT_ROLE_WEIGHTS,
): RoleWeights {
  const out: Record<ExampleRole, number> = { ...base };
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const [name, value, ...rest] = part.split('=');
    const role = EXAMPLE_ROLES.find((r) => r === name.trim());
    const w = Number(value);
    if (role === undefined || rest.length > 0 || value === undefined || !(w >= 0)) {
      throw new RangeError(
        `--role-weights: "${part}" must be <role>=<number >= 0> with role one of ${EXAMPLE_ROLES.join(', ')}`,
      );
    }
    out[role] = w;
  }
  if (!EXAMPLE_ROLES.some((r) => out[r] > 0))
    throw new RangeError(`--role-weights: "${spec}" leaves no role with a positive weight`);
  return out;
}
