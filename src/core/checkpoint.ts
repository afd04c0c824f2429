import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { GatehouseError } from './errors.js';

/** The last event of the chain: what a checkpoint vouches for. */
export interface ChainHead {
  seq: number;
  hash: string;
}

/**
 * A signed checkpoint: the event at `seq` has `hash`, as seen by the holder of key `keyId` at
 * `at`. Since every hash covers its predecessor's, it vouches for the whole chain up to `seq`.
 */
export interface SignedCheckpoint extends ChainHead {
  /** ISO-8601 time of signing. */
  at: string;
  /** Names the public key that checks the signature (see `keyIdOf`). */
  keyId: string;
  /** Ed25519 signature of `checkpointMessage`, base64. */
  signature: string;
}

/**
 * A signed record of a `gatehouse audit prune`: events up to `floorSeq` were deleted on purpose.
 * Without one, a chain that does not start at the genesis was cut by someone without the key.
 */
export interface SignedPrune {
  floorSeq: number;
  /** ISO-8601 time of the prune. */
  at: string;
  keyId: string;
  signature: string;
}

/** What signs: the private half stays with the adapter that holds it. */
export interface AuditSigner {
  readonly keyId: string;
  /** The public key as SPKI PEM, for verifiers (`gatehouse audit public-key`, export headers). */
  readonly publicKeyPem: string;
  sign(message: Buffer): Buffer;
}

/** The exact bytes signed for a checkpoint; the version prefix keeps them from meaning anything else. */
export function checkpointMessage(checkpoint: { seq: number; hash: string; at: string }): Buffer {
  return Buffer.from(`gatehouse-audit-checkpoint:v1\n${checkpoint.seq}\n${checkpoint.hash}\n${checkpoint.at}`);
}

export function pruneMessage(prune: { floorSeq: number; at: string }): Buffer {
  return Buffer.from(`gatehouse-audit-prune:v1\n${prune.floorSeq}\n${prune.at}`);
}

export function signCheckpoint(head: ChainHead, at: string, signer: AuditSigner): SignedCheckpoint {
  const unsigned = { seq: head.seq, hash: head.hash, at };
  return { ...unsigned, keyId: signer.keyId, signature: signer.sign(checkpointMessage(unsigned)).toString('base64') };
}

export function signPrune(floorSeq: number, at: string, signer: AuditSigner): SignedPrune {
  return { floorSeq, at, keyId: signer.keyId, signature: signer.sign(pruneMessage({ floorSeq, at })).toString('base64') };
}

/** First 32 hex characters of the SHA-256 of the key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

export type SignatureCheck = 'ok' | 'unknown-key' | 'bad-signature';

/** The public keys a verifier trusts, by key id. */
export class TrustedKeys {
  private readonly keys = new Map<string, KeyObject>();

  /** Each entry is an SPKI PEM public key (what `gatehouse audit public-key` prints). */
  constructor(publicKeyPems: readonly string[]) {
    for (const pem of publicKeyPems) {
      let key: KeyObject;
      try {
        key = createPublicKey(pem);
      } catch (error) {
        throw new GatehouseError('GH_AUDIT_KEY_INVALID', `not a public key: ${(error as Error).message}`);
      }
      if (key.asymmetricKeyType !== 'ed25519') throw new GatehouseError('GH_AUDIT_KEY_INVALID', `not an Ed25519 public key (${key.asymmetricKeyType ?? 'unknown type'})`);
      this.keys.set(keyIdOf(key), key);
    }
  }

  get ids(): string[] {
    return [...this.keys.keys()];
  }

  checkCheckpoint(checkpoint: SignedCheckpoint): SignatureCheck {
    return this.check(checkpoint.keyId, checkpointMessage(checkpoint), checkpoint.signature);
  }

  checkPrune(prune: SignedPrune): SignatureCheck {
    return this.check(prune.keyId, pruneMessage(prune), prune.signature);
  }

  private check(keyId: string, message: Buffer, signature: string): SignatureCheck {
    const key = this.keys.get(keyId);
    if (!key) return 'unknown-key';
    return verify(null, message, key, Buffer.from(signature, 'base64')) ? 'ok' : 'bad-signature';
  }
}

/** A checkpoint read from a file someone kept: checked for shape, not yet for its signature. */
export function parseCheckpoint(value: unknown): SignedCheckpoint | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (!Number.isInteger(v.seq) || typeof v.hash !== 'string' || typeof v.at !== 'string' || typeof v.keyId !== 'string' || typeof v.signature !== 'string') {
    return undefined;
  }
  return { seq: v.seq as number, hash: v.hash, at: v.at, keyId: v.keyId, signature: v.signature };
}
