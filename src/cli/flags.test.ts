import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigurationError } from '../core/errors.ts';
import {
  parseChoiceFlag,
  parseChoiceListFlag,
  parseDirFlag,
  parseIntFlag,
  parseNumberFlag,
  parseShareFlag,
  parseUrlFlag,
} from './flags.ts';

describe('flag parsers', () => {
  test('integers: digits only, in range, a ConfigurationError naming flag and value otherwise', () => {
    expect(parseIntFlag('12', '--n')).toBe(12);
    expect(parseIntFlag('-3', '--n')).toBe(-3);
    expect(parseIntFlag('0', '--n', { min: 0 })).toBe(0);
    expect(() => parseIntFlag('abc', '--steps')).toThrow(ConfigurationError);
    expect(() => parseIntFlag('abc', '--steps')).toThrow('--steps must be an integer, got "abc"');
    expect(() => parseIntFlag('', '--n')).toThrow(ConfigurationError);
    expect(() => parseIntFlag('1.5', '--n')).toThrow(ConfigurationError);
    expect(() => parseIntFlag('0', '--n', { min: 1 })).toThrow('a positive integer');
    expect(() => parseIntFlag('-1', '--n', { min: 0 })).toThrow('a non-negative integer');
    expect(() => parseIntFlag('70', '--t', { min: 1, max: 64 })).toThrow('an integer in 1..64');
    expect(() => parseIntFlag('99999999999999999999', '--n')).toThrow(ConfigurationError);
  });

  test('numbers and shares', () => {
    expect(parseNumberFlag('0.5', '--x', { above: 0, max: 1 })).toBe(0.5);
    expect(() => parseNumberFlag('0', '--x', { above: 0, max: 1 })).toThrow('(0, 1]');
    expect(() => parseNumberFlag('NaN', '--x')).toThrow(ConfigurationError);
    expect(() => parseNumberFlag(' ', '--x')).toThrow(ConfigurationError);
    expect(() => parseNumberFlag('-1', '--x', { min: 0 })).toThrow('a number >= 0');
    expect(parseShareFlag('1', '--s')).toBe(1);
    expect(() => parseShareFlag('2', '--s')).toThrow('--s must be a number in [0, 1], got "2"');
  });

  test('choices, lists and URLs', () => {
    expect(parseChoiceFlag('b', '--c', ['a', 'b'] as const)).toBe('b');
    expect(() => parseChoiceFlag('z', '--c', ['a', 'b'] as const)).toThrow('one of a, b');
    const word = (w: string): 'x' | 'y' | undefined => (w === 'x' || w === 'y' ? w : undefined);
    expect(parseChoiceListFlag('y,x,y', '--l', word, 'x, y')).toEqual(['y', 'x']);
    expect(() => parseChoiceListFlag('x,q', '--l', word, 'x, y')).toThrow(ConfigurationError);
    expect(parseUrlFlag('http://h:8000', '--e', '/v1')).toBe('http://h:8000/v1');
    expect(parseUrlFlag('http://h:8000/api/v1', '--e', '/v1')).toBe('http://h:8000/api/v1');
    expect(() => parseUrlFlag('not a url', '--e')).toThrow(ConfigurationError);
  });

  test('directories: absent or a folder, never a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spell-flags-'));
    try {
      const file = join(dir, 'f');
      writeFileSync(file, 'x');
      expect(parseDirFlag(dir, '--run-dir')).toBe(dir);
      expect(parseDirFlag(join(dir, 'new'), '--run-dir')).toBe(join(dir, 'new'));
      expect(() => parseDirFlag(file, '--run-dir')).toThrow(/--run-dir .* is not a directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
