/**
 * The `--keep` policy: which pass rates make a question part of the final dataset.
 *
 * Written as an interval over the pass rate p ∈ [0, 1] with open or closed ends, e.g. `(0,1)` —
 * the default, the paper's "frontier" (some responders solved it, some did not) — or `[0.25,0.75]`.
 * `all` keeps every question that reached the responders. Pure; no I/O.
 */
import { ConfigurationError } from '../core/errors.ts';

export interface KeepPolicy {
  /** The text the policy was parsed from (recorded in the state header and summary). */
  readonly spec: string;
  readonly lower: number;
  readonly upper: number;
  readonly lowerOpen: boolean;
  readonly upperOpen: boolean;
}

/** The default: 0 < p < 1. */
export const DEFAULT_KEEP = '(0,1)';

const INTERVAL = /^([[(])\s*([0-9.]+)\s*,\s*([0-9.]+)\s*([\])])$/;

/**
 * Parse a keep policy.
 * @throws ConfigurationError naming the value and the expected forms.
 * @example parseKeepPolicy('(0,1)') // 0 < p < 1
 */
export function parseKeepPolicy(spec: string): KeepPolicy {
  const s = spec.trim();
  if (s === 'all') return { spec: s, lower: 0, upper: 1, lowerOpen: false, upperOpen: false };
  if (s === 'frontier') return parseKeepPolicy(DEFAULT_KEEP);
  const m = INTERVAL.exec(s);
  const bad = (why: string): never => {
    throw new ConfigurationError(
      `--keep '${spec}' ${why}; expected an interval over the pass rate such as (0,1), [0.25,0.75] or (0,1], or 'all'`,
    );
  };
  if (m === null) return bad('is not an interval');
  const lower = Number(m[2]);
  const upper = Number(m[3]);
  if (!Number.isFinite(lower) || !Number.isFinite(upper))
    return bad('has a bound that is not a number');
  if (lower < 0 || upper > 1) return bad('has a bound outside [0, 1]');
  if (lower > upper) return bad('has its lower bound above its upper bound');
  const policy = { spec: s, lower, upper, lowerOpen: m[1] === '(', upperOpen: m[4] === ')' };
  if (lower === upper && (policy.lowerOpen || policy.upperOpen)) return bad('is empty');
  return policy;
}

/** Whether a question with pass rate p is kept. */
export function keeps(policy: KeepPolicy, p: number): boolean {
  const aboveLower = policy.lowerOpen ? p > policy.lower : p >= policy.lower;
  const belowUpper = policy.upperOpen ? p < policy.upper : p <= policy.upper;
  return aboveLower && belowUpper;
}
