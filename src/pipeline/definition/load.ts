import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseYaml } from '../../config/yaml.js';
import { GatehouseError } from '../../core/errors.js';
import { definitionSchema, type PipelineDefinition } from './schema.js';

export interface LoadedDefinition {
  definition: PipelineDefinition;
  path: string;
  /** sha256 of the file: a run records which definition produced it. */
  hash: string;
}

/** Reads, validates and freezes a pipeline definition file. */
export function loadDefinition(file: string): LoadedDefinition {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new GatehouseError('GH_PIPELINE_DEFINITION_INVALID', `cannot read the pipeline definition ${file}: ${(error as Error).message}`, { file });
  }
  return parseDefinition(text, file);
}

export function parseDefinition(text: string, file = '<inline>'): LoadedDefinition {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new GatehouseError('GH_PIPELINE_DEFINITION_INVALID', `${file} is not valid YAML: ${(error as Error).message}`, { file });
  }
  const parsed = definitionSchema.safeParse(document);
  if (!parsed.success) {
    // An unknown key (every object is strict: a misspelt key would otherwise be ignored) is named by its own path.
    const problems = parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' ? issue.keys.map((key) => `${[...issue.path, key].join('.')}: unknown key`) : [`${issue.path.join('.') || '(root)'}: ${issue.message}`],
    );
    throw new GatehouseError('GH_PIPELINE_DEFINITION_INVALID', `${file}: ${problems.join('; ')}`, { file, problems });
  }
  return { definition: deepFreeze(parsed.data), path: file, hash: createHash('sha256').update(text).digest('hex') };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/** Refuses a rule (a check id) the definition does not have: a misspelt one would list or release nothing, as if nothing were held back. */
export function requireKnownCheck(definition: PipelineDefinition, rule: string | undefined): void {
  if (rule === undefined) return;
  const ids = Object.values(definition.gates).flatMap((checks) => checks.map((check) => check.id));
  if (!ids.includes(rule)) {
    throw new GatehouseError('GH_INVALID_ARGUMENTS', `rule "${rule}" is not a check of pipeline "${definition.name}" (its checks: ${ids.join(', ')})`, { rule });
  }
}
