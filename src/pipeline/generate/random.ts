/**
 * A small seeded generator (sfc32 seeded through splitmix32): the synthetic data must be the same
 * bytes for the same seed on every machine, and fast enough to draw a few hundred million numbers.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let state = seed >>> 0;
    const next = () => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.uint32();
  }

  /** A uniform 32-bit unsigned integer. */
  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.uint32() / 4294967296;
  }

  /** A uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** A new generator whose stream depends only on this one's seed and `label`, so parts of the data set do not shift when another part changes. */
  fork(label: number): Random {
    return new Random((this.uint32() ^ Math.imul(label + 1, 0x27d4eb2d)) >>> 0);
  }
}

/**
 * Splits `total` into integers proportional to `weights` (largest remainder), so that the parts
 * always add up to the total: the generated files must reconcile exactly unless a fault says otherwise.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const n = weights.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i]!;
  const parts = new Array<number>(n);
  if (sum <= 0 || total <= 0) return parts.fill(0);
  const rests = new Array<number>(n);
  let left = total;
  for (let i = 0; i < n; i++) {
    const exact = (weights[i]! / sum) * total;
    const part = Math.floor(exact);
    parts[i] = part;
    rests[i] = exact - part;
    left -= part;
  }
  // The few units left go to the largest remainders (ties: the first), one each.
  for (; left > 0; left--) {
    let best = 0;
    for (let i = 1; i < n; i++) if (rests[i]! > rests[best]!) best = i;
    parts[best]!++;
    rests[best] = -1;
  }
  return parts;
}
