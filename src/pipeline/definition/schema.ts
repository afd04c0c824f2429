/**
 * The pipeline definition file (YAML): sources with their column names per layout era, the SQL of
 * each layer's tables, reference tables, the gates with their named checks, and the serving
 * contracts of the Final tables. Validated once by zod; the error names the path of a bad key.
 */
import { z } from 'zod';

export const LAYERS = ['raw', 'stage', 'std', 'enrich', 'semantic', 'final'] as const;
export type Layer = (typeof LAYERS)[number];
export const GATES = ['A', 'B', 'C', 'D', 'E'] as const;
export type Gate = (typeof GATES)[number];
/** The layer each gate checks; its passing rows feed the next layer. */
export const GATE_INPUT: Record<Gate, Layer> = { A: 'raw', B: 'stage', C: 'std', D: 'enrich', E: 'semantic' };

const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case SQL identifier expected');
const checkId = z.string().regex(/^[A-E]\.[a-z0-9_]+$/, 'check ids look like B.strict_nulls (gate letter, dot, snake_case)');

const column = z.union([z.array(z.string()).min(1), z.strictObject({ names: z.array(z.string()).min(1), optional: z.boolean().default(false) })]);

export const sourceSchema = z.strictObject({
  /** File name pattern (`*` and `?`) matched in the data folder. */
  files: z.string(),
  delimiter: z.string().length(1),
  /** Canonical column → the header names it may carry (renames and layout eras); mapped by name, never by position. */
  columns: z.record(identifier, column),
  /** Layout eras told apart by header names; the first whose names are all present wins. */
  eras: z.array(z.strictObject({ name: z.string(), header_has: z.array(z.string()).min(1) })).optional(),
  /** SQL over the raw (text) columns: the district key (cc+ddddd) and the year of a row, for its partition. */
  partition: z.strictObject({ district: z.string(), year: z.string() }),
  /** The key of a row, for messages. */
  key: z.array(identifier).min(1),
});

const rowCheck = z.strictObject({
  id: checkId,
  kind: z.literal('row'),
  tables: z.array(identifier).min(1),
  /** SQL boolean over the layer table's columns: true = the row is flagged. */
  when: z.string(),
  action: z.enum(['quarantine', 'coerce', 'warn']),
  description: z.string(),
});
const uniqueCheck = z.strictObject({
  id: checkId,
  kind: z.literal('unique'),
  tables: z.array(identifier).length(1),
  key: z.array(identifier).min(1),
  description: z.string(),
});
const partitionCheck = z.strictObject({
  id: checkId,
  kind: z.literal('partition'),
  /** SQL returning one row per partition it judges: _district_key, _year, observed (number), ok (boolean). */
  sql: z.string(),
  action: z.enum(['hold', 'warn']),
  description: z.string(),
});
const driftCheck = z.strictObject({
  id: checkId,
  kind: z.literal('drift'),
  tables: z.array(identifier).min(1),
  /** Largest relative change of a partition's row count against the previous run before it is flagged. */
  max_change: z.number().positive(),
  action: z.enum(['hold', 'warn']),
  description: z.string(),
});
const builtinCheck = z.strictObject({
  id: checkId,
  kind: z.literal('builtin'),
  /** file: per loaded file at gate A; contract: per Final table at gate E. */
  rule: z.enum(['hash_match', 'row_count', 'encoding_valid', 'headers_mapped', 'layout_era', 'row_shape', 'contract_columns', 'contract_types', 'contract_key_unique', 'backward_compatible', 'not_empty']),
  description: z.string(),
});
export const checkSchema = z.discriminatedUnion('kind', [rowCheck, uniqueCheck, partitionCheck, driftCheck, builtinCheck]);
export type Check = z.infer<typeof checkSchema>;

const logicalType = z.enum(['integer', 'number', 'text', 'boolean']);
export type LogicalType = z.infer<typeof logicalType>;

export const definitionSchema = z
  .strictObject({
    name: identifier,
    description: z.string().optional(),
    sources: z.record(identifier, sourceSchema),
    /** Small tables written by the pipeline itself (crosswalks, code lists): ref.<name>. */
    reference: z.record(identifier, z.strictObject({ columns: z.record(identifier, logicalType), rows: z.array(z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))) })).default({}),
    /** layer → table → SQL. The layer reads the rows of the layer before it that passed its gate (`<layer>_passed.<table>`). */
    layers: z.strictObject({
      stage: z.record(identifier, z.string()),
      std: z.record(identifier, z.string()),
      enrich: z.record(identifier, z.string()),
      semantic: z.record(identifier, z.string()),
    }),
    gates: z.strictObject({ A: z.array(checkSchema), B: z.array(checkSchema), C: z.array(checkSchema), D: z.array(checkSchema), E: z.array(checkSchema) }),
    /** Serving contracts of the published (Final) tables, one per semantic table. */
    contracts: z.record(identifier, z.strictObject({ version: z.number().int().positive(), key: z.array(identifier).min(1), columns: z.record(identifier, logicalType) })),
  })
  .superRefine((definition, ctx) => {
    const ids = new Set<string>();
    for (const gate of GATES) {
      for (const [index, check] of definition.gates[gate].entries()) {
        if (!check.id.startsWith(`${gate}.`)) ctx.addIssue({ code: 'custom', path: ['gates', gate, index, 'id'], message: `a check of gate ${gate} must be named ${gate}.…` });
        if (ids.has(check.id)) ctx.addIssue({ code: 'custom', path: ['gates', gate, index, 'id'], message: `duplicate check id ${check.id}` });
        ids.add(check.id);
        const layer = GATE_INPUT[gate];
        const tables = layer === 'raw' ? Object.keys(definition.sources) : Object.keys(definition.layers[layer as Exclude<Layer, 'raw' | 'final'>]);
        if ('tables' in check) {
          for (const table of check.tables) if (!tables.includes(table)) ctx.addIssue({ code: 'custom', path: ['gates', gate, index, 'tables'], message: `${layer} has no table ${table} (has ${tables.join(', ')})` });
        }
      }
    }
    for (const table of Object.keys(definition.layers.semantic)) {
      if (!definition.contracts[table]) ctx.addIssue({ code: 'custom', path: ['contracts'], message: `semantic table ${table} has no serving contract` });
    }
    for (const layer of ['stage'] as const) {
      for (const table of Object.keys(definition.layers[layer])) {
        if (!definition.sources[table]) ctx.addIssue({ code: 'custom', path: ['layers', layer, table], message: `stage tables are named after their source; there is no source ${table}` });
      }
    }
  });

export type PipelineDefinition = z.infer<typeof definitionSchema>;
export type SourceDefinition = z.infer<typeof sourceSchema>;

/** The canonical columns of a source with their header names and whether they may be missing. */
export function sourceColumns(source: SourceDefinition): Array<{ name: string; headers: string[]; optional: boolean }> {
  return Object.entries(source.columns).map(([name, spec]) => (Array.isArray(spec) ? { name, headers: spec, optional: false } : { name, headers: spec.names, optional: spec.optional }));
}
