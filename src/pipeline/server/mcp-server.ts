/**
 * The bundled pipeline MCP server (`gatehouse demo-server pipeline`): the pipeline behind the
 * gateway. Reading its state (status, quarantine) is read-only (G0 in the example config); running
 * it and releasing quarantined rows change what is published (G2: a human approves each call).
 * The engine is opened for each call and closed after it, so the CLI can use the same database
 * between calls; calls that write run one at a time.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { isGatehouseError } from '../../core/errors.js';
import { loadDefinition, requireKnownCheck } from '../definition/load.js';
import type { PipelineEngine } from '../engines/engine.js';
import { openEngine, type EngineChoice } from '../engines/open.js';
import { listQuarantine, pipelineStatus, previewRelease, releaseQuarantined } from '../run/inspect.js';
import { finalDifferences } from '../run/publish.js';
import { runPipeline, type RunReport } from '../run/run.js';

export interface PipelineServerOptions {
  definitionPath: string;
  engine: EngineChoice;
  /** The folder runs read new files from (an agent cannot point the pipeline elsewhere). */
  dataDir: string;
}

const json = (value: unknown): CallToolResult => ({ content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value as Record<string, unknown> });
const failure = (error: unknown): CallToolResult => ({ isError: true, content: [{ type: 'text', text: isGatehouseError(error) ? `${error.code}: ${error.message}` : String((error as Error)?.message ?? error) }] });
/** A tool's answer: what `work` returns as JSON, or what it threw as a tool error. */
const answer = (work: () => Promise<unknown>): Promise<CallToolResult> => work().then(json, failure);

/** The run report without the per-check detail an agent rarely needs. */
function brief(report: RunReport): Record<string, unknown> {
  return {
    run: report.runId, mode: report.mode, from: report.from, status: report.status, seconds: report.seconds,
    files: report.files, gates: report.gates, held: report.held,
    failing_checks: report.checks.filter((check) => check.status !== 'pass'),
    final_changed: finalDifferences(report.finalBefore, report.finalAfter).map((difference) => difference.table),
  };
}

export function createPipelineServer(options: PipelineServerOptions): McpServer {
  const server = new McpServer({ name: 'gatehouse-pipeline', version: '1.0.0' });
  let writing: Promise<unknown> = Promise.resolve();
  /** `existing`: the call reads what runs left, so a DuckDB file that does not exist is refused, not created. */
  const withEngine = async <T>(use: (engine: PipelineEngine) => Promise<T>, existing = true): Promise<T> => {
    const engine = await openEngine({ ...options.engine, existing });
    try {
      return await use(engine);
    } finally {
      await engine.close();
    }
  };
  /** One writing call at a time (DuckDB has one writer; two runs would also race on the ledger). */
  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const next = writing.then(work, work);
    writing = next.catch(() => undefined);
    return next;
  };

  server.registerTool(
    'pipeline_status',
    {
      description: 'The last runs of the data pipeline, rows per layer, rows in/promoted/quarantined per gate, held partitions and the checks that did not pass.',
      inputSchema: { run: z.number().int().positive().optional().describe('A run id (default: the last run)') },
      annotations: { title: 'Pipeline status', readOnlyHint: true, openWorldHint: false },
    },
    ({ run }) => answer(() => withEngine((engine) => pipelineStatus(engine, run))),
  );

  server.registerTool(
    'list_quarantine',
    {
      description: 'Rows the pipeline holds back, with the rule that caught each, the file hash, the line and the raw text.',
      inputSchema: {
        rule: z.string().optional().describe('Only this rule, e.g. B.strict_nulls'),
        gate: z.enum(['A', 'B', 'C', 'D']).optional().describe('Only this gate'),
        district: z.string().regex(/^\d{7}$/).optional().describe('Only this district key (county 2 + district 5 digits)'),
        limit: z.number().int().min(1).max(1000).optional().describe('At most this many rows (default 50)'),
      },
      annotations: { title: 'List quarantined rows', readOnlyHint: true, openWorldHint: false },
    },
    ({ rule, gate, district, limit }) =>
      answer(async () => {
        // The definition is read only to check a rule; listing needs only the database.
        if (rule !== undefined) requireKnownCheck(loadDefinition(options.definitionPath).definition, rule);
        return withEngine((engine) => listQuarantine(engine, { rule, gate, district, limit: limit ?? 50 }));
      }),
  );

  server.registerTool(
    'run_pipeline',
    {
      description: 'Run the pipeline on the new files of its data folder (or replay from a layer) and publish what passes gates A–E. dry_run: run every gate and report what would be promoted, writing nothing to Final.',
      inputSchema: {
        from: z.enum(['raw', 'stage', 'std', 'enrich', 'semantic']).optional().describe('Replay from this layer instead of loading new files'),
        dry_run: z.boolean().optional().describe('Write nothing to Final'),
      },
      annotations: { title: 'Run the pipeline', readOnlyHint: false, destructiveHint: true, idempotentHint: true, openWorldHint: false },
    },
    ({ from, dry_run }) =>
      serialized(() =>
        answer(async () => {
          const loaded = loadDefinition(options.definitionPath);
          return brief(await withEngine((engine) => runPipeline(engine, loaded, { ...(from ? { from } : { dataDir: options.dataDir }), dryRun: dry_run ?? false }), from !== undefined));
        }),
      ),
  );

  server.registerTool(
    'release_quarantined',
    {
      description: 'Release quarantined rows (by id, or by rule and district) or a held partition, with a reason; then replay so that they are published (unless replay is false).',
      inputSchema: {
        ids: z.array(z.number().int().positive()).optional().describe('Quarantine ids (from list_quarantine)'),
        rule: z.string().optional().describe('Every row held by this rule (narrowed by district/year)'),
        district: z.string().regex(/^\d{7}$/).optional(),
        year: z.number().int().optional(),
        reason: z.string().min(3).describe('Why these rows may be published (kept with the release)'),
        replay: z.boolean().optional().describe('Replay at once (default true)'),
        dry_run: z.boolean().optional().describe('Only say what would be released (rows, partitions, the layer to replay from, a sample of the rows); nothing is written'),
      },
      annotations: { title: 'Release quarantined rows', readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    },
    ({ ids, rule, district, year, reason, replay, dry_run }) =>
      serialized(() =>
        answer(async () => {
          const loaded = loadDefinition(options.definitionPath);
          requireKnownCheck(loaded.definition, rule);
          const request = { ids, rule, district, year, reason, by: 'mcp' };
          if (dry_run) {
            const { sample, ...wouldRelease } = await withEngine((engine) => previewRelease(engine, request));
            return { dry_run: true, would_release: wouldRelease, sample };
          }
          const released = await withEngine((engine) => releaseQuarantined(engine, request));
          if (replay === false) return { released };
          const report = await withEngine((engine) => runPipeline(engine, loaded, { from: released.fromLayer as Exclude<typeof released.fromLayer, 'final'> }));
          return { released, replay: brief(report) };
        }),
      ),
  );
  return server;
}

/** Serves the pipeline server on stdin/stdout until stdin ends. */
export async function runPipelineServer(options: PipelineServerOptions): Promise<void> {
  const server = createPipelineServer(options);
  const ended = new Promise<void>((resolve) => process.stdin.once('end', resolve));
  await server.connect(new StdioServerTransport());
  await ended;
  await server.close();
}
