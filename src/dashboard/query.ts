/**
 * Rollout queries: which indexed samples a filter selects, and the text a search looks in. Pure
 * functions over index entries and parsed lines; reading files is the caller's business.
 */
import type { RolloutEntry } from './rollout-index.ts';

/** A rollout-browser query; absent fields do not filter. */
export interface RolloutFilter {
  readonly role?: string;
  readonly task?: string;
  readonly label?: string;
  readonly rewardMin?: number;
  readonly rewardMax?: number;
  readonly trained?: boolean;
  /** Case-insensitive substring over the sample's text values (not its keys). */
  readonly text?: string;
}

/** Does an entry pass the filter's index fields? (The text search needs the line itself.) */
export function matchesEntry(e: RolloutEntry, f: RolloutFilter): boolean {
  if (f.role !== undefined && e.role !== f.role) return false;
  if (f.task !== undefined && e.task !== f.task) return false;
  if (f.label !== undefined && (e.label ?? 'none') !== f.label) return false;
  if (f.trained !== undefined && e.trained !== f.trained) return false;
  if (f.rewardMin !== undefined || f.rewardMax !== undefined) {
    if (e.reward === null) return false;
    if (f.rewardMin !== undefined && e.reward < f.rewardMin) return false;
    if (f.rewardMax !== undefined && e.reward > f.rewardMax) return false;
  }
  return true;
}

/** Every string and number value of a parsed sample, joined: what a text search looks in. */
export function searchableText(value: unknown): string {
  const parts: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') parts.push(v);
    else if (typeof v === 'number') parts.push(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
  };
  walk(value);
  return parts.join('\n').toLowerCase();
}

/** Does a sample line contain the (lower-cased) needle in one of its values? */
export function lineMatchesText(line: string, needle: string): boolean {
  // cheap reject before parsing: a JSON-escaped value can only contain the needle if the raw line
  // does, except for characters JSON escapes, so only skip when the needle has none of those
  const escapable = [...needle].some((c) => c === '"' || c === '\\' || c.charCodeAt(0) < 0x20);
  if (!escapable && !line.toLowerCase().includes(needle)) {
    // the raw line may escape non-ASCII as \uXXXX; parse to be sure in that case only
    if (!line.includes('\\u')) return false;
  }
  try {
    return searchableText(JSON.parse(line)).includes(needle);
  } catch {
    return false;
  }
}

/** The distinct values of an index field over entries, sorted, with counts. */
export function facet(
  entries: Iterable<RolloutEntry>,
  field: 'role' | 'task' | 'label',
): Record<string, number> {
  const counts = new Map<string, number>();
  for (const e of entries) {
    const v = e[field] ?? 'none';
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  return Object.fromEntries([...counts.entries()].sort((a, b) => a[0].localeCompare(b[0])));
}
