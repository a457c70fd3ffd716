// Numbers as short text, the way the Python fallbacks print them (widgets/_svg.py's fmt):
// 4 significant digits, integers as they are, '-' for a missing value.
export function fmt(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return '-';
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e6) return String(x);
  const text = x.toPrecision(digits);
  // toPrecision keeps trailing zeros and writes 1.230e-7: trim to Python's '%.4g' spelling
  if (text.includes('e')) {
    const [mantissa, exponent] = text.split('e');
    const sign = exponent.startsWith('-') ? '-' : '+';
    const digitsOnly = exponent.replace(/^[+-]/, '').padStart(2, '0');
    return `${trimZeros(mantissa)}e${sign}${digitsOnly}`;
  }
  return trimZeros(text);
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}
