import { randomBytes, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { keyIdOf, type AuditSigner } from '../../core/checkpoint.js';
import { GatehouseError } from '../../core/errors.js';

/**
 * The Ed25519 key that signs audit checkpoints, kept in a file (PKCS#8 PEM, mode 0600) rather
 * than in the store: whoever can rewrite the database should not also be able to re-sign it.
 * The first process that needs it creates it; processes racing to do so all end up with the
 * one file that won (written aside, then hard-linked into place, which fails if it exists).
 */
export function openSigningKey(file: string): AuditSigner {
  if (!existsSync(file)) createKeyFile(file);
  const privateKey = readPrivateKey(file);
  const publicKey = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (message) => sign(null, message, privateKey),
  };
}

/** The public half of the key file as SPKI PEM, or undefined when the file does not exist (never creates it). */
export function readPublicKeyPem(file: string): string | undefined {
  if (!existsSync(file)) return undefined;
  return createPublicKey(readPrivateKey(file)).export({ type: 'spki', format: 'pem' }).toString();
}

function readPrivateKey(file: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(readFileSync(file));
  } catch (error) {
    throw new GatehouseError('GH_AUDIT_KEY_INVALID', `${file}: not a readable private key (${(error as Error).message})`, { file });
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new GatehouseError('GH_AUDIT_KEY_INVALID', `${file}: an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`, { file });
  }
  return key;
}

function createKeyFile(file: string): void {
  const { privateKey } = generateKeyPairSync('ed25519');
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const cannot = (error: unknown) => new GatehouseError('GH_AUDIT_KEY_INVALID', `cannot create the audit signing key ${file}: ${(error as Error).message}`, { file }, { cause: error });
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(aside, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  } catch (error) {
    // E.g. the folder is a file (mkdir says EEXIST): not another process that got there first.
    throw cannot(error);
  }
  try {
    linkSync(aside, file);
  } catch (error) {
    // EEXIST here is another process that created the key first: its file is the key.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw cannot(error);
  } finally {
    rmSync(aside, { force: true });
  }
}
