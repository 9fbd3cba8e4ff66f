/**
 * A tiny arithmetic evaluator for the generator's derivations: decimal numbers, + - * /,
 * unary minus and parentheses. Returns NaN on anything else; never uses eval.
 */

/** Evaluate an arithmetic expression; NaN when it does not parse. */
export function evaluateArithmetic(expr: string): number {
  const tokens = expr.match(/\d+(?:\.\d+)?|[-+*/()]|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const primary = (): number => {
    const t = tokens[pos++];
    if (t === '(') {
      const v = sum();
      return tokens[pos++] === ')' ? v : NaN;
    }
    if (t === '-') return -primary();
    return t !== undefined && /^\d/.test(t) ? Number(t) : NaN;
  };
  const product = (): number => {
    let v = primary();
    while (peek() === '*' || peek() === '/') {
      const op = tokens[pos++];
      const rhs = primary();
      v = op === '*' ? v * rhs : v / rhs;
    }
    return v;
  };
  const sum = (): number => {
    let v = product();
    while (peek() === '+' || peek() === '-') {
      const op = tokens[pos++];
      const rhs = product();
      v = op === '+' ? v + rhs : v - rhs;
    }
    return v;
  };
  const value = sum();
  return pos === tokens.length ? value : NaN;
}
