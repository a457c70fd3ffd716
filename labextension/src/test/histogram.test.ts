import { test } from 'node:test';
import assert from 'node:assert';
import { densities, rebin } from '../logic/histogram';

// Worked by hand: 10 samples, bins [0,1) [1,3) [3,4): counts 2, 6, 2.
test('densities divide each count by the total and by its bin width', () => {
  const heights = densities([0, 1, 3, 4], [2, 6, 2]);
  assert.deepStrictEqual(heights, [0.2, 0.3, 0.2]);
  // a density integrates to one over the bins
  const area = heights.reduce((sum, h, i) => sum + h * [1, 2, 1][i], 0);
  assert.ok(Math.abs(area - 1) < 1e-12);
});

test('an empty histogram has zero heights, not NaN', () => {
  assert.deepStrictEqual(densities([0, 1, 2], [0, 0]), [0, 0]);
});

test('rebin merges neighbours, the last group may be smaller', () => {
  assert.deepStrictEqual(rebin([0, 1, 2, 3, 4, 5], [1, 2, 3, 4, 5], 2),
                         { edges: [0, 2, 4, 5], counts: [3, 7, 5] });
  assert.deepStrictEqual(rebin([0, 1, 2], [4, 6], 1), { edges: [0, 1, 2], counts: [4, 6] });
});
