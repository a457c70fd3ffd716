import { test } from 'node:test';
import assert from 'node:assert';
import { sortRows } from '../logic/table_sort';

const rows = [
  { name: 'a', calls: 2, time: 5.0 },
  { name: 'b', calls: 7, time: null },
  { name: 'c', calls: 2, time: 9.5 },
  { name: 'd', calls: 7, time: 1.0 },
];

test('descending by a number, ties in their original order', () => {
  assert.deepStrictEqual(sortRows(rows, 'calls').map(r => r.name), ['b', 'd', 'a', 'c']);
});

test('missing values go last whichever the direction', () => {
  assert.deepStrictEqual(sortRows(rows, 'time').map(r => r.name), ['c', 'a', 'd', 'b']);
  assert.deepStrictEqual(sortRows(rows, 'time', false).map(r => r.name), ['d', 'a', 'c', 'b']);
});

test('text columns sort alphabetically, and the input is not modified', () => {
  const copy = JSON.stringify(rows);
  assert.deepStrictEqual(sortRows(rows, 'name', false).map(r => r.name), ['a', 'b', 'c', 'd']);
  assert.strictEqual(JSON.stringify(rows), copy);
});
