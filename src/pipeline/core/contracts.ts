/**
 * Gate E's judgement of a Final table against its serving contract and against the contract last
 * published. Pure: the caller reads the table's columns and the published contract.
 */
import type { LogicalType } from '../definition/schema.js';

export interface Contract {
  version: number;
  key: readonly string[];
  columns: Readonly<Record<string, LogicalType>>;
}

export interface ContractFinding {
  rule: 'contract_columns' | 'contract_types' | 'backward_compatible';
  ok: boolean;
  detail: string;
}

export function judgeContract(actual: ReadonlyArray<{ name: string; type: string }>, contract: Contract, published: Contract | null): ContractFinding[] {
  const actualNames = new Set(actual.map((column) => column.name));
  const missing = Object.keys(contract.columns).filter((name) => !actualNames.has(name));
  const extra = actual.map((column) => column.name).filter((name) => !(name in contract.columns));
  const retyped = actual.filter((column) => column.name in contract.columns && contract.columns[column.name] !== column.type).map((column) => `${column.name} is ${column.type}, contract says ${contract.columns[column.name]}`);
  const findings: ContractFinding[] = [
    { rule: 'contract_columns', ok: missing.length === 0 && extra.length === 0, detail: missing.length || extra.length ? [missing.length ? `missing ${missing.join(', ')}` : '', extra.length ? `not in the contract ${extra.join(', ')}` : ''].filter(Boolean).join('; ') : `${actual.length} columns` },
    { rule: 'contract_types', ok: retyped.length === 0, detail: retyped.length ? retyped.join('; ') : 'every type as contracted' },
  ];
  if (!published) {
    findings.push({ rule: 'backward_compatible', ok: true, detail: `first publication (version ${contract.version})` });
  } else if (contract.version < published.version) {
    findings.push({ rule: 'backward_compatible', ok: false, detail: `contract version ${contract.version} is older than the published ${published.version}` });
  } else {
    const removed = Object.keys(published.columns).filter((name) => !(name in contract.columns));
    const changed = Object.keys(published.columns).filter((name) => name in contract.columns && contract.columns[name] !== published.columns[name]);
    const breaking = removed.length > 0 || changed.length > 0;
    const what = [removed.length ? `removes ${removed.join(', ')}` : '', changed.length ? `retypes ${changed.map((name) => `${name} (${published.columns[name]} → ${contract.columns[name]})`).join(', ')}` : ''].filter(Boolean).join('; ');
    if (breaking && contract.version === published.version) findings.push({ rule: 'backward_compatible', ok: false, detail: `${what} without a new contract version (published version ${published.version})` });
    else findings.push({ rule: 'backward_compatible', ok: true, detail: breaking ? `${what}: breaking, acknowledged by version ${published.version} → ${contract.version}` : `compatible with published version ${published.version}` });
  }
  return findings;
}
