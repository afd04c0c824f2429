/**
 * SQL for the row-level checks of a gate, built from the definition. Pure: strings in, strings out.
 * A row's disposition is decided by its first failing quarantine check, in the order the gate lists
 * them, then by a hold of its partition; coerce and warn checks are only counted.
 */
import type { Check, SourceDefinition } from '../definition/schema.js';
import { literal } from '../engines/engine.js';

/** A row check as the gate evaluates it on one table. */
export interface RowRule {
  id: string;
  kind: string;
  action: 'quarantine' | 'coerce' | 'warn';
  /** Boolean SQL over the table (aliased t) and its joins. */
  when: string;
  /** For unique checks: the temp table of duplicate (file_id, line) it joins. */
  duplicates?: { table: string; key: string[] };
}

/** The row rules of a gate that apply to `table`, in the gate's order. */
export function rowRulesFor(checks: readonly Check[], table: string, source: SourceDefinition | undefined): RowRule[] {
  const rules: RowRule[] = [];
  checks.forEach((check, index) => {
    if (check.kind === 'row' && check.tables.includes(table)) rules.push({ id: check.id, kind: check.kind, action: check.action, when: `(${check.when})` });
    if (check.kind === 'unique' && check.tables[0] === table) {
      const duplicates = `gh_dups_${index}`;
      rules.push({ id: check.id, kind: check.kind, action: 'quarantine', when: `(${duplicates}.line IS NOT NULL)`, duplicates: { table: duplicates, key: check.key } });
    }
    if (check.kind === 'builtin' && check.rule === 'row_shape' && source) {
      // A line with too many fields was rejected and kept with its text; one that ends before a required field is _short (both judged at load).
      rules.push({ id: check.id, kind: 'builtin', action: 'quarantine', when: '(t._reject IS NOT NULL OR t._short)' });
    }
  });
  return rules;
}

/** The temp table of later duplicates of a key: every row of a key but its first (by file, then line). */
export function duplicatesSql(table: string, key: readonly string[]): string {
  const keyList = key.join(', ');
  const on = key.map((column) => `f.${column} = t.${column}`).join(' AND ');
  return `SELECT t._file_id AS file_id, t._line AS line FROM ${table} t
    JOIN (SELECT ${keyList}, min(_file_id * 10000000000 + _line) AS first_position FROM ${table} GROUP BY ${keyList} HAVING count(*) > 1) f ON ${on}
    WHERE t._file_id * 10000000000 + t._line <> f.first_position`;
}

export function joinsFor(rules: readonly RowRule[]): string {
  return rules
    .filter((rule) => rule.duplicates)
    .map((rule) => `LEFT JOIN ${rule.duplicates!.table} ON ${rule.duplicates!.table}.file_id = t._file_id AND ${rule.duplicates!.table}.line = t._line`)
    .join('\n');
}

/** One pass over the table: rows and flagged rows of every rule, per partition. */
export function countsSql(table: string, rules: readonly RowRule[]): string {
  const flagged = rules.map((rule, index) => `count(*) FILTER (WHERE ${rule.when}) AS f${index}`);
  return `SELECT t._district_key AS district_key, t._year AS year, count(*) AS n${flagged.length ? ', ' : ''}${flagged.join(', ')}
    FROM ${table} t ${joinsFor(rules)} GROUP BY t._district_key, t._year`;
}

/**
 * The disposition rule of each row that does not pass: its first quarantine rule, else the hold of
 * its partition. With `rowReleases` (ops.releases has rows released one by one), a rule released
 * for a row is skipped for it, so the row's next failing rule or its partition's hold still
 * applies: a release waives that rule, not the whole gate.
 */
export function dispositionSql(table: string, rules: readonly RowRule[], heldTable: string | null, rowReleases = false): string | null {
  const waived = (id: string) => (rowReleases ? ` AND coalesce(strpos(gh_rel.rules, ${literal(`,${id},`)}), 0) = 0` : '');
  const branches = rules.filter((rule) => rule.action === 'quarantine').map((rule) => `WHEN (${rule.when})${waived(rule.id)} THEN ${literal(rule.id)}`);
  if (heldTable) branches.push('WHEN gh_held.rule IS NOT NULL THEN gh_held.rule');
  if (branches.length === 0) return null;
  const held = heldTable ? `LEFT JOIN ${heldTable} gh_held ON gh_held.district_key = t._district_key AND gh_held.year = t._year` : '';
  const released = rowReleases
    ? `LEFT JOIN (SELECT file_id, line, ',' || string_agg(rule, ',') || ',' AS rules FROM ops.releases WHERE file_id IS NOT NULL GROUP BY file_id, line) gh_rel ON gh_rel.file_id = t._file_id AND gh_rel.line = t._line`
    : '';
  return `SELECT t._file_id, t._line, t._district_key, t._year, CASE ${branches.join(' ')} END AS rule FROM ${table} t ${joinsFor(rules)} ${held} ${released}`;
}
