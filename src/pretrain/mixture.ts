/**
 * The shuffled stream of mixed examples pretraining consumes: each draw picks a role by weight,
 * then a cluster uniformly (clusters are balanced across tasks), then builds the example. One
 * `Rng` drives everything, so the stream is a pure function of the seed (and resumable from the
 * RNG state). Pure and synchronous.
 */
import type { Rng } from '../core/rng.ts';
import type { QaCluster } from './clusters.ts';
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

/** Build one example of `role` from `cluster`. */
export function buildExample(
  role: ExampleRole,
  cluster: QaCluster,
  rng: Rng,
  opts: ExampleOptions,
): TextExample {
  switch (role) {
    case 'lm':
      return lmExample(cluster, rng);
    case 'questioner':
      return questionerExample(cluster, rng, rng.next() < HISTORY_SHARE, opts);
    case 'responder':
      return responderExample(cluster, rng, opts);
    case 'grounding':
      return groundingExample(cluster, rng);
    case 'verifier':
      return verifierExample(cluster, rng);
    case 'copy':
      return copyExample(cluster, rng);
    case 'repeat':
      return repeatExample(cluster, rng);
    case 'quote':
      return quoteExample(cluster, rng, opts.countTokens, QUOTE_MAX_TOKENS);
    case 'induction':
    case 'pointer':
      // Token ids, not text: the pretraining loop builds these (induction.ts, pointer.ts).
      throw new RangeError(`the ${role} drill is built from token ids, not text`);
  }
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
