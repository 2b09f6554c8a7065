// The outputs the stand-in task of the sharded-evaluation test gives each example (sharded-eval-worker.ts
// computes them in each rank; the test computes the whole set's by hand): i % 3 numbers, so some
// examples have none and the rows differ in length.
export function rowOf(i: number): number[] {
  return Array.from({ length: i % 3 }, (_, j) => i * 10 + j + 0.125);
}
