/**
 * YAML in and out, for the gateway config, pipeline definitions and `import claude`.
 * js-yaml with its YAML 1.2 core schema (no timestamps, no merge keys: `2025-06-18` stays a
 * string). Chosen over `yaml` for start-up: every `gatehouse` process parses its config before it
 * can do anything, and js-yaml's first parse in a fresh process is several times faster.
 */
import { CORE_SCHEMA, dump, load } from 'js-yaml';

/** Parses one YAML document; throws js-yaml's YAMLException (message with line and column). */
export function parseYaml(text: string): unknown {
  // js-yaml's default schema adds timestamps and merge keys; the core schema is what `yaml` read.
  return load(text, { schema: CORE_SCHEMA });
}

/** YAML text of `value`, long lines unfolded; `undefined` properties are left out, as in JSON. */
export function toYaml(value: unknown): string {
  return dump(value, { lineWidth: -1, skipInvalid: true, noRefs: true });
}
