import { test } from 'node:test';
import assert from 'node:assert';
import { fmt } from '../logic/format';

// Expected strings are Python's f'{x:.4g}' (what the static fallbacks print). (An exact tie
// such as 1234.5 rounds half-even in Python and half-up in JavaScript: not tested.)
test('fmt writes numbers as Python formats them with 4 significant digits', () => {
  const cases: [number, string][] = [
    [0.012345, '0.01235'], [1234.56, '1235'], [12345.6, '1.235e+04'], [1.23e-7, '1.23e-07'],
    [2.5, '2.5'], [-0.5, '-0.5'], [100, '100'], [0.1 + 0.2, '0.3'], [1e21, '1e+21'],
  ];
  for (const [x, expected] of cases) assert.strictEqual(fmt(x), expected, String(x));
});

test('fmt spells missing and non-finite values', () => {
  assert.strictEqual(fmt(null), '-');
  assert.strictEqual(fmt(undefined), '-');
  assert.strictEqual(fmt(NaN), 'nan');
  assert.strictEqual(fmt(Infinity), 'inf');
  assert.strictEqual(fmt(-Infinity), '-inf');
});
