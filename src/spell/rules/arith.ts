/**
 * A small, safe arithmetic evaluator standing in for the Python `eval` the reference DocMath
 * normaliser runs on answer strings. It understands exactly the expressions that normaliser can
 * hand over: Python int/float literals (decimals, exponents, `_` separators; `007` is rejected as
 * in Python), `+ - * / // **` (`**` right-associative and binding tighter than unary minus, so
 * `-2**2` is -4), unary `+`/`-`, parentheses, `True`/`False` (acting as 1/0 in arithmetic, like
 * Python bools), `math.pow(x, y)` (produced by the `10^k` rewrite) and comma tuples.
 *
 * It never executes code: the input is tokenised and parsed by hand; any name other than
 * True/False/math.pow, any other syntax, division by zero or a float overflow is a failure.
 * {@link evaluateArithmetic} turns every failure into the reference's sentinel 999999999.
 */

/** What the reference's normaliser yields when evaluation fails (and for an empty answer). */
export const PARSE_FAILURE_SENTINEL = 999999999;

/** A Python value the evaluator can produce. `int` tracks Python int vs float. */
export type ArithValue =
  | { readonly kind: 'number'; readonly value: number; readonly int: boolean }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'tuple'; readonly items: readonly ArithValue[] };

type Token =
  | { t: 'num'; value: number; int: boolean }
  | { t: 'bool'; value: boolean }
  | { t: 'mathpow' }
  | { t: 'op'; op: string }
  | { t: 'end' };

/** Python caps bracket nesting at 200 (tokenizer MAXLEVEL); it also bounds our recursion. */
const MAX_DEPTH = 200;

/** Bound on unary/bracket recursion in the parser. */
const MAX_RECURSION = 1000;

class ArithFailure extends Error {}
function fail(): never {
  throw new ArithFailure();
}

const NUMBER = /(?:(?:\d(?:_?\d)*)?\.\d(?:_?\d)*|\d(?:_?\d)*\.?)(?:[eE][+-]?\d(?:_?\d)*)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const MATH_POW_TAIL = /[ \t\f]*\.[ \t\f]*pow(?![A-Za-z0-9_])/y;
const OPERATORS = ['**', '//', '+', '-', '*', '/', '(', ')', ','];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  let depth = 0;
  let newlineAtTop = false;
  while (i < src.length) {
    const ch = src[i];
    if (ch === ' ' || ch === '\t' || ch === '\f') {
      i++;
      continue;
    }
    if (ch === '\n' || ch === '\r') {
      // Inside brackets newlines are free (implicit line joining); at top level only blank
      // lines before the expression or after its end are allowed.
      if (depth === 0 && tokens.length > 0) newlineAtTop = true;
      i++;
      continue;
    }
    if (newlineAtTop) fail();
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(src);
    if (num) {
      const text = num[0];
      i += text.length;
      if (i < src.length && /[A-Za-z0-9_.]/.test(src[i])) fail(); // 5j, 5x, 1e
      const digits = text.replace(/_/g, '');
      const isInt = !/[.eE]/.test(digits);
      if (isInt && /^0/.test(digits) && !/^0+$/.test(digits)) fail(); // 007 is a SyntaxError
      tokens.push({ t: 'num', value: Number(digits), int: isInt });
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(src);
    if (name) {
      i += name[0].length;
      if (name[0] === 'True' || name[0] === 'False') {
        tokens.push({ t: 'bool', value: name[0] === 'True' });
        continue;
      }
      if (name[0] === 'math') {
        MATH_POW_TAIL.lastIndex = i;
        const tail = MATH_POW_TAIL.exec(src);
        if (tail) {
          i += tail[0].length;
          tokens.push({ t: 'mathpow' });
          continue;
        }
      }
      fail(); // any other name is a NameError in Python and never runs here
    }
    const op = OPERATORS.find((o) => src.startsWith(o, i));
    if (op === undefined) fail();
    if (op === '(') depth++;
    if (op === ')') depth--;
    if (depth > MAX_DEPTH || depth < 0) fail();
    tokens.push({ t: 'op', op });
    i += op.length;
  }
  tokens.push({ t: 'end' });
  return tokens;
}

/** Numeric view of a value; bools are 0/1 ints, tuples cannot take part in arithmetic here. */
function asNumber(v: ArithValue): { value: number; int: boolean } {
  if (v.kind === 'number') return v;
  if (v.kind === 'bool') return { value: v.value ? 1 : 0, int: true };
  return fail();
}

function num(value: number, int: boolean): ArithValue {
  return { kind: 'number', value, int };
}

/** 10**k as the correctly rounded literal `1ek` (what libm pow gives; V8's pow can be 1 ulp off). */
function powerOfTen(exp: number): number | undefined {
  return Number.isInteger(exp) && Math.abs(exp) <= 400 ? Number(`1e${exp}`) : undefined;
}

/** Python float `a ** b` (also int ** negative int): errors where Python raises. */
function floatPow(a: number, b: number): number {
  if (a === 0 && b < 0) fail(); // ZeroDivisionError
  if (a < 0 && !Number.isInteger(b)) {
    // Python returns a complex number here; the normaliser keeps its real part.
    return Math.pow(-a, b) * Math.cos(Math.PI * b);
  }
  const r = (a === 10 ? powerOfTen(b) : undefined) ?? Math.pow(a, b);
  if (!Number.isFinite(r) && Number.isFinite(a) && Number.isFinite(b)) fail(); // OverflowError
  return r;
}

function power(x: ArithValue, y: ArithValue): ArithValue {
  const a = asNumber(x);
  const b = asNumber(y);
  if (a.int && b.int && b.value >= 0) {
    // Python ints never overflow; a huge result is carried as Infinity and scores 0 later,
    // as the reference's OverflowError in the comparison does.
    return num(
      a.value === 10 ? (powerOfTen(b.value) ?? Infinity) : Math.pow(a.value, b.value),
      true,
    );
  }
  return num(floatPow(a.value, b.value), false);
}

/** `math.pow`: always float; ValueError for 0**neg and neg**fraction, OverflowError on inf. */
function mathPow(x: ArithValue, y: ArithValue): ArithValue {
  const a = asNumber(x).value;
  const b = asNumber(y).value;
  if ((a === 0 && b < 0) || (a < 0 && !Number.isInteger(b))) fail();
  return num(floatPow(a, b), false);
}

function binary(op: string, x: ArithValue, y: ArithValue): ArithValue {
  const a = asNumber(x);
  const b = asNumber(y);
  const int = a.int && b.int;
  switch (op) {
    case '+':
      return num(a.value + b.value, int);
    case '-':
      return num(a.value - b.value, int);
    case '*':
      return num(a.value * b.value, int);
    case '/':
      if (b.value === 0) fail(); // ZeroDivisionError
      return num(a.value / b.value, false);
    case '//':
      if (b.value === 0) fail();
      return num(Math.floor(a.value / b.value), int);
    default:
      return fail();
  }
}

/** Recursive-descent parser over the token list, evaluating as it goes. */
class Parser {
  private pos = 0;
  private depth = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private peek(): Token {
    return this.tokens[this.pos];
  }
  private isOp(op: string): boolean {
    const tok = this.peek();
    return tok.t === 'op' && tok.op === op;
  }
  private expectOp(op: string): void {
    if (!this.isOp(op)) fail();
    this.pos++;
  }

  /** Whole input: an expression list, then the end. */
  parseAll(): ArithValue {
    const v = this.exprList(() => this.peek().t === 'end');
    if (this.peek().t !== 'end') fail();
    return v;
  }

  /** `expr (',' expr)* [',']`: a tuple when a comma appears. */
  private exprList(atClose: () => boolean): ArithValue {
    if (atClose()) return { kind: 'tuple', items: [] };
    const first = this.expr();
    if (!this.isOp(',')) return first;
    const items = [first];
    while (this.isOp(',')) {
      this.pos++;
      if (atClose()) break;
      items.push(this.expr());
    }
    return { kind: 'tuple', items };
  }

  /** additive: term (('+' | '-') term)* */
  private expr(): ArithValue {
    let v = this.term();
    while (this.isOp('+') || this.isOp('-')) {
      const op = (this.tokens[this.pos++] as { op: string }).op;
      v = binary(op, v, this.term());
    }
    return v;
  }

  /** term: factor (('*' | '/' | '//') factor)* */
  private term(): ArithValue {
    let v = this.factor();
    while (this.isOp('*') || this.isOp('/') || this.isOp('//')) {
      const op = (this.tokens[this.pos++] as { op: string }).op;
      v = binary(op, v, this.factor());
    }
    return v;
  }

  /** factor: ('+' | '-') factor | power. Unary minus binds looser than `**`. */
  private factor(): ArithValue {
    // Every recursion passes through here; bounding it keeps `-----…5` or deep brackets from
    // overflowing the JS stack (Python raises for these too, which means the sentinel).
    if (++this.depth > MAX_RECURSION) fail();
    try {
      if (this.isOp('-') || this.isOp('+')) {
        const neg = this.isOp('-');
        this.pos++;
        const a = asNumber(this.factor());
        return num(neg ? -a.value : a.value, a.int);
      }
      return this.power();
    } finally {
      this.depth--;
    }
  }

  /** power: primary ['**' factor] — right-associative through `factor`. */
  private power(): ArithValue {
    const base = this.primary();
    if (!this.isOp('**')) return base;
    this.pos++;
    return power(base, this.factor());
  }

  private primary(): ArithValue {
    const tok = this.peek();
    this.pos++;
    if (tok.t === 'num') return num(tok.value, tok.int);
    if (tok.t === 'bool') return { kind: 'bool', value: tok.value };
    if (tok.t === 'mathpow') {
      this.expectOp('(');
      const x = this.expr();
      this.expectOp(',');
      const y = this.expr();
      if (this.isOp(',')) this.pos++;
      this.expectOp(')');
      return mathPow(x, y);
    }
    if (tok.t === 'op' && tok.op === '(') {
      const v = this.exprList(() => this.isOp(')'));
      this.expectOp(')');
      return v;
    }
    return fail();
  }
}

/**
 * Parse and evaluate `src` as a Python arithmetic expression.
 * @returns the value, or null when Python's `eval` would raise (or the input is outside the subset).
 * @example parseArithmetic('2**3**2') → { kind: 'number', value: 512, int: true }
 */
export function parseArithmetic(src: string): ArithValue | null {
  try {
    return new Parser(tokenize(src)).parseAll();
  } catch (err) {
    if (err instanceof ArithFailure) return null;
    throw err;
  }
}

/**
 * Evaluate `src` to a number or a boolean; 999999999 on ANY failure, and for a tuple (which no
 * numeric comparison accepts).
 * @example evaluateArithmetic('1/3') === 0.3333333333333333; evaluateArithmetic('import os') === 999999999
 */
export function evaluateArithmetic(src: string): number | boolean {
  const v = parseArithmetic(src);
  if (v === null || v.kind === 'tuple') return PARSE_FAILURE_SENTINEL;
  return v.value;
}
