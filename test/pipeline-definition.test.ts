import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseYaml, toYaml } from '../src/config/yaml.js';
import { isGatehouseError } from '../src/core/errors.js';
import { loadDefinition, parseDefinition } from '../src/pipeline/definition/load.js';
import { DEFINITION_PATH } from './helpers/pipeline.js';

type Document = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The bundled definition, changed by `edit`, as YAML. */
function edited(edit: (document: Document) => void): string {
  const document = parseYaml(readFileSync(DEFINITION_PATH, 'utf8')) as Document;
  edit(document);
  return toYaml(document);
}

test('an unknown key anywhere in a pipeline definition fails with its path; the bundled definition loads', () => {
  assert.equal(loadDefinition(DEFINITION_PATH).definition.name, 'ca_k12');
  const cases: Array<[(document: Document) => void, string]> = [
    [(document) => (document.frobnicate = 1), 'frobnicate: unknown key'],
    [(document) => (document.gates.B[0].severity = 'high'), 'gates.B.0.severity: unknown key'],
    [(document) => (document.sources.enrollment.encodin = 'latin1'), 'sources.enrollment.encodin: unknown key'],
    [(document) => (document.sources.caaspp.partition.distrct = 'x'), 'sources.caaspp.partition.distrct: unknown key'],
    [(document) => (document.layers.final = {}), 'layers.final: unknown key'],
    [(document) => (document.contracts.schools.verison = 2), 'contracts.schools.verison: unknown key'],
  ];
  for (const [edit, problem] of cases) {
    assert.throws(() => parseDefinition(edited(edit), 'ca-k12.yaml'), (error: unknown) => {
      assert.ok(isGatehouseError(error, 'GH_PIPELINE_DEFINITION_INVALID'));
      assert.deepEqual(error.data.problems, [problem]);
      return true;
    }, problem);
  }
});
