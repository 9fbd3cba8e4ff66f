/**
 * The verifier role's arithmetic (spell-algorithm.md §5.2–5.3): parsing one vote, the majority
 * over a group of votes, and the responder reward that combines the rule check with it.
 * Vote rewards and group selection live in rewards.ts.
 */

import type { InvalidVoteMode, RewardCombine, TieRule } from './config.ts';
import { extractSolution } from './rules/index.ts';

/** One verifier vote: 1 = YES (equivalent), 0 = NO, −1 = unparseable. */
export type Vote = 1 | 0 | -1;

/**
 * Parse one verifier reply. All tests are case-sensitive substring tests, as in the reference:
 * YES if it holds `[[YES]]` but not `[[NO]]`, or "YES" but not "NO"; else NO under the mirrored
 * rule; else invalid. So "NOTE … [[YES]]" is YES, both tags is invalid, lowercase "yes" is
 * invalid, and a bare "NONE" is NO. An unfinished `<think>` gives "Empty", hence invalid.
 */
export function parseVote(text: string): Vote {
  const s = extractSolution(text);
  const hasYesTag = s.includes('[[YES]]');
  const hasNoTag = s.includes('[[NO]]');
  const hasYes = s.includes('YES');
  const hasNo = s.includes('NO');
  if ((hasYesTag && !hasNoTag) || (hasYes && !hasNo)) return 1;
  if ((hasNoTag && !hasYesTag) || (hasNo && !hasYes)) return 0;
  return -1;
}

export interface MajorityOptions {
  readonly tieRule: TieRule;
  readonly invalidVotes: InvalidVoteMode;
}

/**
 * The group's majority vote; −1 means "no usable majority" and the rule score stands alone.
 *
 * Candidates are all votes under `penalise` (invalid votes can win, as in the reference) and
 * only the valid votes under `ignore`.
 * - `first-seen`: the most frequent candidate; among tied values the one that occurs first
 *   (Python `Counter.most_common` order). A 4–4 YES/NO tie goes to whichever came first.
 * - `strict-yes-majority`: YES when YES votes are more than half of the candidates; otherwise
 *   −1 when invalid votes are more than half (possible under `penalise` only); otherwise NO.
 *   A 4–4 tie is NO.
 * With no valid vote at all the result is −1 under every option.
 */
export function majorityVote(votes_G: readonly Vote[], opts: MajorityOptions): Vote {
  const candidates = opts.invalidVotes === 'ignore' ? votes_G.filter((v) => v !== -1) : votes_G;
  if (!votes_G.some((v) => v !== -1)) return -1;
  if (opts.tieRule === 'strict-yes-majority') {
    const n = candidates.length;
    const yes = candidates.filter((v) => v === 1).length;
    const invalid = candidates.filter((v) => v === -1).length;
    if (2 * yes > n) return 1;
    if (2 * invalid > n) return -1;
    return 0;
  }
  // Map iteration order is insertion order, so ties resolve to the first-seen value.
  const counts = new Map<Vote, number>();
  for (const v of candidates) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: Vote = -1;
  let bestCount = 0;
  for (const [v, c] of counts) {
    if (c > bestCount) {
      best = v;
      bestCount = c;
    }
  }
  return best;
}

/**
 * Responder reward: the rule score combined with the majority when the majority is a valid
 * YES/NO, otherwise the rule score alone (majority −1, or `undefined` when not judged).
 */
export function responderReward(
  ruleScore: number,
  majority: Vote | undefined,
  combine: RewardCombine = 'max',
): number {
  if (majority === undefined || majority === -1) return ruleScore;
  switch (combine) {
    case 'max':
      return Math.max(ruleScore, majority);
    case 'mean':
      return (ruleScore + majority) / 2;
    case 'min':
      return Math.min(ruleScore, majority);
    case 'sum':
      return ruleScore + majority;
    case 'rule':
      return ruleScore;
  }
}

/** The verifier options one answer's judgement needs. */
export interface JudgeOptions extends MajorityOptions {
  readonly rewardCombine: RewardCombine;
}

/**
 * One judged answer: the majority of its V votes and the responder's reward from its rule score
 * and that majority. The single place both self-play training and `spell generate` decide it.
 */
export function judgeAnswer(
  ruleScore: number,
  votes: readonly Vote[],
  opts: JudgeOptions,
): { readonly majority: Vote; readonly reward: number } {
  const majority = majorityVote(votes, opts);
  return { majority, reward: responderReward(ruleScore, majority, opts.rewardCombine) };
}
