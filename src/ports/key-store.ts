/** Secrets the gateway makes for itself (e.g. the confirm-token key), shared by every process on the store. */
export interface KeyStore {
  /** The key of that name; the first process to ask creates it with `create`, every later one reads it. */
  key(name: string, create: () => Buffer): Promise<Buffer>;
}
