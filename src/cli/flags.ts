/**
 * The command-line flag parsers every command shares. Each takes the raw string Commander hands
 * over and the flag's name, and throws a ConfigurationError (exit code 2) whose one line names the
 * flag, what it expects and what it got: `--steps must be a positive integer, got "abc"`.
 */
import { statSync } from 'node:fs';
import { ConfigurationError } from '../core/errors.ts';

export interface IntRange {
  readonly min?: number;
  readonly max?: number;
}

export interface NumberRange {
  /** Inclusive lower bound. */
  readonly min?: number;
  /** Exclusive lower bound (e.g. 0 for "a positive number"). */
  readonly above?: number;
  /** Inclusive upper bound. */
  readonly max?: number;
}

function reject(flag: string, expected: string, value: string): never {
  throw new ConfigurationError(`${flag} must be ${expected}, got "${value}"`);
}

function intKind({ min, max }: IntRange): string {
  if (max !== undefined) return `an integer in ${min ?? '-∞'}..${max}`;
  if (min === 0) return 'a non-negative integer';
  if (min === 1) return 'a positive integer';
  return min === undefined ? 'an integer' : `an integer >= ${min}`;
}

function numberKind({ min, above, max }: NumberRange): string {
  if (min === 0 && max === 1) return 'a number in [0, 1]';
  if (above === 0 && max === 1) return 'a number in (0, 1]';
  if (above === 0 && max === undefined) return 'a positive number';
  const parts: string[] = [];
  if (min !== undefined) parts.push(`>= ${min}`);
  if (above !== undefined) parts.push(`> ${above}`);
  if (max !== undefined) parts.push(`<= ${max}`);
  return parts.length === 0 ? 'a number' : `a number ${parts.join(' and ')}`;
}

/** A whole number written in decimal digits (an optional minus sign), within `range`. */
export function parseIntFlag(value: string, flag: string, range: IntRange = {}): number {
  const n = Number(value);
  const ok =
    /^-?\d+$/.test(value.trim()) &&
    Number.isSafeInteger(n) &&
    (range.min === undefined || n >= range.min) &&
    (range.max === undefined || n <= range.max);
  return ok ? n : reject(flag, intKind(range), value);
}

/** `parseIntFlag` as a Commander argument parser (`.option('--n <n>', '…', intArg('--n'))`). */
export function intArg(flag: string, range: IntRange = {}): (value: string) => number {
  return (value) => parseIntFlag(value, flag, range);
}

/** A TCP port, 0..65535 (0: any free port). */
export function parsePortFlag(value: string, flag: string): number {
  return parseIntFlag(value, flag, { min: 0, max: 65_535 });
}

/** A finite number within `range`. */
export function parseNumberFlag(value: string, flag: string, range: NumberRange = {}): number {
  const n = Number(value);
  const ok =
    value.trim() !== '' &&
    Number.isFinite(n) &&
    (range.min === undefined || n >= range.min) &&
    (range.above === undefined || n > range.above) &&
    (range.max === undefined || n <= range.max);
  return ok ? n : reject(flag, numberKind(range), value);
}

/** A probability: a number in [0, 1]. */
export function parseShareFlag(value: string, flag: string): number {
  return parseNumberFlag(value, flag, { min: 0, max: 1 });
}

/** One of a fixed set of words. */
export function parseChoiceFlag<T extends string>(
  value: string,
  flag: string,
  choices: readonly T[],
): T {
  const found = choices.find((c) => c === value);
  return found ?? reject(flag, `one of ${choices.join(', ')}`, value);
}

/** A word a domain parser recognises (e.g. a QA metric, also under the reference's names). */
export function parseNamedFlag<T>(
  value: string,
  flag: string,
  parse: (word: string) => T | undefined,
  expected: string,
): T {
  const found = parse(value);
  return found !== undefined ? found : reject(flag, expected, value);
}

/** A comma-separated list of words from a fixed set, without repeats, in the order given. */
export function parseChoiceListFlag<T extends string>(
  value: string,
  flag: string,
  parse: (word: string) => T | undefined,
  expected: string,
): T[] {
  const out: T[] = [];
  for (const word of value.split(',')) {
    const item = parse(word.trim());
    if (item === undefined) reject(flag, `a comma-separated list of ${expected}`, value);
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

/** An http(s) URL; a bare server root (`http://host:8000`) gets `/v1` when `rootSuffix` says so. */
export function parseUrlFlag(value: string, flag: string, rootSuffix?: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return reject(flag, 'a URL (e.g. http://127.0.0.1:8000/v1)', value);
  }
  if (rootSuffix !== undefined && (url.pathname === '/' || url.pathname === '')) {
    return `${url.origin}${rootSuffix}`;
  }
  return value;
}

/** A path that is a directory or does not exist yet (it will be created); a file is refused. */
export function parseDirFlag(value: string, flag: string): string {
  let isDir = true;
  try {
    isDir = statSync(value).isDirectory();
  } catch {
    // Absent (or unreadable, which the command reports when it gets there): created later.
  }
  if (!isDir) throw new ConfigurationError(`${flag} ${value} exists and is not a directory`);
  return value;
}
