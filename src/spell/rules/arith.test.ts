import { describe, expect, test } from 'vitest';
import { PARSE_FAILURE_SENTINEL, evaluateArithmetic, parseArithmetic } from './arith.ts';

describe('evaluateArithmetic follows Python eval on arithmetic', () => {
  test.each([
    ['1/3', 1 / 3],
    ['2*5', 10],
    ['1+2*3', 7],
    ['(1+2)*3', 9],
    ['2**3**2', 512], // right-associative
    ['(2**3)**2', 64],
    ['-2**2', -4], // ** binds tighter than unary minus
    ['2**-1', 0.5],
    ['--3', 3],
    ['+4', 4],
    ['7//2', 3],
    ['-7//2', -4],
    ['10 - 4 - 3', 3], // left-associative
    ['12 / 4 / 3', 1],
    ['1.5e3', 1500],
    ['1E-2', 0.01],
    ['.5', 0.5],
    ['5.', 5],
    ['5.e3', 5000],
    ['1_000', 1000],
    ['00', 0],
    ['0.07', 0.07],
    ['007.5', 7.5],
    ['10**-3', 0.001],
    ['2.5*math.pow(10, 6)', 2.5e6],
    ['math.pow(10, -2)', 0.01],
    ['  42\n', 42],
    ['(5\n+6)', 11],
    ['True+1', 2],
    ['-True', -1],
  ])('%j → %d', (src, want) => {
    expect(evaluateArithmetic(src)).toBe(want);
  });

  test('a bare True/False is a boolean, as eval returns a bool', () => {
    expect(evaluateArithmetic('True')).toBe(true);
    expect(evaluateArithmetic('(False)')).toBe(false);
  });

  test('int vs float is tracked like Python', () => {
    expect(parseArithmetic('6/3')).toEqual({ kind: 'number', value: 2, int: false });
    expect(parseArithmetic('6*3')).toEqual({ kind: 'number', value: 18, int: true });
    expect(parseArithmetic('2**-1')).toEqual({ kind: 'number', value: 0.5, int: false });
  });

  test('commas make a tuple, which evaluateArithmetic reports as the sentinel', () => {
    expect(parseArithmetic('1, 2')?.kind).toBe('tuple');
    expect(parseArithmetic('(1,)')?.kind).toBe('tuple');
    expect(parseArithmetic('()')?.kind).toBe('tuple');
    expect(evaluateArithmetic('1,2')).toBe(PARSE_FAILURE_SENTINEL);
  });

  test('a negative base to a fractional power keeps the real part of the complex result', () => {
    const v = evaluateArithmetic('(-8)**0.5') as number;
    expect(v).toBeCloseTo(1.7319121124709868e-16, 30);
  });

  test('huge ints become Infinity (Python keeps a big int); inf literals too', () => {
    expect(evaluateArithmetic('10**400')).toBe(Infinity);
    expect(evaluateArithmetic('1e400')).toBe(Infinity);
  });
});

describe('evaluateArithmetic returns the sentinel 999999999 on any failure', () => {
  test.each([
    '',
    '007', // leading-zero int: SyntaxError in Python
    '0_7',
    '1/0',
    '3//0',
    '0**-1',
    '0.0**-1',
    '10.0**400', // float OverflowError
    'math.pow(10, 400)',
    'math.pow(-8, 0.5)',
    'math.pow(0, -1)',
    '1+',
    '(1+2',
    '1+2)',
    '5 6',
    '5\n6',
    '1.2.3',
    '5j',
    '5x',
    '1e',
    '2 ^ 3',
    '3 % 2',
    'abc',
    'e',
    'pi',
    '(1,2)+1',
    '1 if 1 else 2',
    '"12"',
    '٣',
    '('.repeat(250) + '1' + ')'.repeat(250),
    '-'.repeat(5000) + '1',
  ])('%j', (src) => {
    expect(evaluateArithmetic(src)).toBe(PARSE_FAILURE_SENTINEL);
  });

  test.each([
    "__import__('os').system('touch /tmp/spell-pwned')",
    'process.exit(1)',
    'globalThis.x = 1',
    'require("fs")',
    'constructor.constructor("return 1")()',
    '[].map',
    '`${1}`',
    'math.floor(2.5)',
    'math.pow.call(null, 2, 3)',
  ])('no code execution is possible: %j is rejected', (src) => {
    expect(evaluateArithmetic(src)).toBe(PARSE_FAILURE_SENTINEL);
  });
});
