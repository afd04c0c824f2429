import { GatehouseError, isGatehouseError } from '../../core/errors.js';
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

/**
 * Runs `work`; an engine error it throws gets where it happened in front of its message (which
 * table of which layer, which check), since the engine's own words name only columns and tables.
 * `where` may be a function, for what costs a query to find (run only when something failed).
 */
export async function naming<T>(where: string | (() => Promise<string>), work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (!isGatehouseError(error) || error.code !== 'GH_PIPELINE_ENGINE') throw error;
    const place = typeof where === 'string' ? where : await where().catch(() => '');
    if (!place) throw error;
    throw new GatehouseError(error.code, `${place}: ${error.message}`, { ...error.data, where: place }, { cause: error });
  }
}
