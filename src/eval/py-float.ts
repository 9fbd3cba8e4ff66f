/**
 * Python's `str(float)` in TypeScript, so a DocMath ground truth reaches the scorer and the judge
 * exactly as the reference prints it (`7.0`, `0.125`, `1e-05`, `1.5e+16`). Pure.
 */

/**
 * Python `repr`/`str` of a float: the shortest round-trip digits, in positional form for
 * decimal exponents −4..15 and scientific form (`1e-05`, `1.5e+16`) otherwise.
 * @example pyFloatStr(7) === '7.0'; pyFloatStr(0.00001) === '1e-05'
 */
export function pyFloatStr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() with no argument gives the shortest digits that round-trip.
  const [mant, expStr] = Math.abs(x).toExponential().split('e');
  const exp = Number(expStr);
  const digits = mant.replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp).toString().padStart(2, '0');
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  if (digits.length <= exp + 1) return `${sign}${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
}
