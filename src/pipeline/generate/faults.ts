/**
 * The faults the generator injects, at known rates, and the manifest that records exactly how many
 * of each went into which file (and at which lines, up to a cap), so that tests can assert that the
 * pipeline finds every one of them and nothing else.
 */
import { Random } from './random.js';

/** Faults drawn row by row. At most one per row, so that each is found by exactly one rule. */
export const ROW_FAULT_KINDS = ['leading_zeros_dropped', 'unknown_cds', 'pseudo_null', 'cp1252', 'duplicate_key'] as const;
export type RowFaultKind = (typeof ROW_FAULT_KINDS)[number];
export type FaultKind = RowFaultKind | 'hierarchy_mismatch' | 'renamed_header';

/** Rates per eligible row (hierarchy_mismatch: per district × year partition). */
export const DEFAULT_FAULT_RATES: Record<RowFaultKind | 'hierarchy_mismatch', number> = {
  leading_zeros_dropped: 0.002,
  unknown_cds: 0.0005,
  pseudo_null: 0.001,
  cp1252: 0.002,
  duplicate_key: 0.0005,
  hierarchy_mismatch: 0.03,
};

/** The tokens a careless export writes for "no value"; Stage quarantines them. */
export const PSEUDO_NULLS = ['NA', 'N/A', '-', '.', 'n/a', 'NULL'] as const;

/** Line numbers are kept for the first this many faults of each kind; counts are always exact. */
const MAX_LINES_PER_KIND = 20_000;

export interface FaultRecord {
  count: number;
  byFile: Record<string, number>;
  /** `file:line` (1-based, the header is line 1) of the faulty row, up to a cap. */
  lines: string[];
}

export class FaultBook {
  readonly rates: Record<RowFaultKind | 'hierarchy_mismatch', number>;
  readonly records = new Map<FaultKind, FaultRecord>();
  /** district key (cc+ddddd) + ':' + year of every partition whose school rows do not sum to the district row. */
  readonly hierarchyPartitions: string[] = [];
  readonly renamedHeaders: Array<{ file: string; from: string; to: string }> = [];

  constructor(
    private readonly random: Random,
    scale: number,
  ) {
    this.rates = Object.fromEntries(Object.entries(DEFAULT_FAULT_RATES).map(([kind, rate]) => [kind, Math.min(1, rate * scale)])) as FaultBook['rates'];
    for (const kind of [...ROW_FAULT_KINDS, 'hierarchy_mismatch', 'renamed_header'] as FaultKind[]) this.records.set(kind, { count: 0, byFile: {}, lines: [] });
  }

  /** Draws the fault of one row among the kinds it can carry (one uniform draw, so the stream does not depend on eligibility). */
  draw(eligible: readonly RowFaultKind[]): RowFaultKind | undefined {
    const u = this.random.next();
    let edge = 0;
    for (const kind of ROW_FAULT_KINDS) {
      edge += this.rates[kind];
      if (u < edge) return eligible.includes(kind) ? kind : undefined;
    }
    return undefined;
  }

  drawPartition(): boolean {
    return this.random.next() < this.rates.hierarchy_mismatch;
  }

  record(kind: FaultKind, file: string, line: number): void {
    const record = this.records.get(kind)!;
    record.count++;
    record.byFile[file] = (record.byFile[file] ?? 0) + 1;
    if (record.lines.length < MAX_LINES_PER_KIND) record.lines.push(`${file}:${line}`);
  }

  toJSON(): Record<string, unknown> {
    const faults: Record<string, unknown> = {};
    for (const [kind, record] of this.records) {
      faults[kind] = { ...record, linesComplete: record.lines.length === record.count };
    }
    (faults.hierarchy_mismatch as Record<string, unknown>).partitions = this.hierarchyPartitions;
    (faults.renamed_header as Record<string, unknown>).headers = this.renamedHeaders;
    return { rates: this.rates, faults };
  }
}
