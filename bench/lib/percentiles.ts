/**
 * The p-th percentile (0 < p ≤ 100) of a non-empty list by the nearest-rank method: the smallest
 * value that at least p% of the values are less than or equal to. No interpolation, so p99 of
 * 10,000 latencies is a latency that some call really had.
 */
export function percentile(values: readonly number[], p: number): number {
  return percentiles(values, [p])[0]!;
}

/** Several percentiles of one list, sorting it once. */
export function percentiles(values: readonly number[], ps: readonly number[]): number[] {
  if (values.length === 0) throw new Error('percentile of an empty list');
  const sorted = Float64Array.from(values).sort();
  return ps.map((p) => {
    if (!(p > 0 && p <= 100)) throw new Error(`percentile out of range: ${p}`);
    return sorted[Math.ceil((p / 100) * sorted.length) - 1]!;
  });
}
