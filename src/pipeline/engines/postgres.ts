import { GatehouseError } from '../../core/errors.js';
import type { PipelineEngine } from './engine.js';

/** Placeholder until the PostgreSQL engine lands (step 4). */
export class PostgresEngine {
  static async open(_options: { url: string }): Promise<PipelineEngine> {
    throw new GatehouseError('GH_PIPELINE_ENGINE', 'the PostgreSQL engine is not built yet');
  }
}
