/**
 * What the registry knows of a gateway process: `live` (it said so within the window asked
 * about), `silent` (not since), `stopped` (it said it stopped), or `unregistered` (it never said
 * anything: a process of a version before the registry, or a name nobody used).
 */
export type ProcessLiveness = 'live' | 'silent' | 'stopped' | 'unregistered';

/**
 * Gateway processes ("host:pid:start") say that they are alive, so that a gateway on another host can
 * tell one that died from one that is busy: a pid can only be checked on its own host.
 */
export interface ProcessRegistry {
  /** `owner` is alive now (registered on its first beat; a beat after a stop registers it again). */
  beat(owner: string): Promise<void>;
  /** `owner` stopped cleanly. */
  stopped(owner: string): Promise<void>;
  /** What is known of `owner`, `silent` when its last beat is older than `silentAfterMs` by the store's clock. */
  liveness(owner: string, silentAfterMs: number): Promise<ProcessLiveness>;
}
