// The usage buffer's queue: first in, first out; full means the oldest go; what a retry takes and
// puts back keeps its place at the front.
import { BoundedFifo } from '../../functions/adapters/usage/bounded-fifo';

test('takes in order; pushing onto a full buffer evicts and returns the oldest', () => {
  const q = new BoundedFifo<number>(3);
  expect(q.push([1, 2])).toEqual([]);
  expect(q.push([3, 4, 5])).toEqual([1, 2]);
  expect(q.size).toBe(3);
  expect(q.take(2)).toEqual([3, 4]);
  expect(q.drain()).toEqual([5]);
  expect(q.size).toBe(0);
});

test('what is put back goes to the front, in order, ahead of what arrived meanwhile; overflow then evicts the oldest', () => {
  const q = new BoundedFifo<number>(4);
  q.push([1, 2, 3]);
  const taken = q.take(2);
  q.push([4, 5]);
  expect(q.putBack(taken)).toEqual([1]); // five items in a buffer of four: the oldest goes
  expect(q.drain()).toEqual([2, 3, 4, 5]);
});

test('stays correct across compaction with many items', () => {
  const q = new BoundedFifo<number>(100_000);
  q.push(Array.from({ length: 50_000 }, (_, i) => i));
  const seen: number[] = [];
  let refusedOnce = false;
  while (q.size > 0) {
    const batch = q.take(200);
    if (batch[0] === 10_000 && !refusedOnce) {
      refusedOnce = true; // a refused retry puts its batch back
      expect(q.putBack(batch)).toEqual([]);
    } else {
      seen.push(...batch);
    }
  }
  expect(seen).toEqual(Array.from({ length: 50_000 }, (_, i) => i));
});
