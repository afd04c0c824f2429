import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { GatehouseError } from './errors.js';

/** RFC 8785 (JSON Canonicalization Scheme): one byte string per JSON value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  const text = canonicalize(value);
  if (text === undefined) throw new GatehouseError('GH_INVALID_ARGUMENTS', 'the value cannot be represented as JSON');
  return text;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** What an approval grant and a confirm token are bound to: the exact call, by whom, under which policy. */
export interface CallBinding {
  /** `server/tool`. */
  tool: string;
  arguments: Record<string, unknown>;
  agent: string;
  profile: string;
  policyVersion: string;
}

export function bindingHash(binding: CallBinding): string {
  return sha256Hex(canonicalJson(binding));
}

/** Identifies a set of arguments for the idempotency ledger (same arguments, same fingerprint). */
export function argumentFingerprint(args: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(args));
}
