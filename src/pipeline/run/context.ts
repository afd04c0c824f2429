import type { Gate, Layer, PipelineDefinition } from '../definition/schema.js';
import type { PipelineEngine } from '../engines/engine.js';

/** What every step of one run shares. */
export interface RunContext {
  engine: PipelineEngine;
  definition: PipelineDefinition;
  runId: number;
  dryRun: boolean;
  /** A finished step's line. */
  progress: (message: string) => void;
  /** A long step starts (a progress bar shows it until the next one). */
  step: (label: string) => void;
}

/** Rows in, promoted and quarantined of one table at one gate (asserted: in = promoted + quarantined). */
export interface GateCount {
  gate: Gate;
  table: string;
  rowsIn: number;
  promoted: number;
  quarantined: number;
}

export interface LayerCount {
  layer: Layer;
  table: string;
  rows: number;
  seconds: number;
}

export const now = (): string => new Date().toISOString();
export const seconds = (startedMs: number): string => `${((Date.now() - startedMs) / 1000).toFixed(1)} s`;
export const count = (value: number): string => value.toLocaleString('en-US');
