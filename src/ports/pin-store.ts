/**
 * `pinned`: the definition first seen (or last accepted) is the one the server lists.
 * `quarantined`: the server now lists a different definition; the tool is hidden and refused
 * until a human accepts the change.
 */
export type PinStatus = 'pinned' | 'quarantined';

export interface ToolPin {
  server: string;
  tool: string;
  /** SHA-256 of the canonical JSON of the accepted raw definition. */
  hash: string;
  definition: unknown;
  pinnedAt: string;
  status: PinStatus;
  /** The changed definition that caused the quarantine. */
  changedHash?: string;
  changedDefinition?: unknown;
  changedAt?: string;
}

/** What the hot path and listings need of a pin: no definitions, which are most of a pin's bytes. */
export type PinState = Pick<ToolPin, 'server' | 'tool' | 'hash' | 'status' | 'changedHash'>;

/** Tool pins (trust on first use). */
export interface PinStore {
  /** Every pin's state, ordered by server, then tool. */
  states(): Promise<PinState[]>;
  get(server: string, tool: string): Promise<ToolPin | undefined>;
  /** Records a first-seen definition; does nothing when the tool is pinned already. */
  pin(server: string, tool: string, hash: string, definition: unknown, at: string): Promise<void>;
  /**
   * pinned → quarantined with the new definition (or updates the changed definition of a
   * quarantined tool). Does nothing for a tool that has no pin, or when it is quarantined with
   * this same hash already (it keeps its first changedAt, and the version does not grow).
   */
  quarantine(server: string, tool: string, hash: string, definition: unknown, at: string): Promise<void>;
  /** quarantined → pinned to the changed definition; undefined when the tool is not quarantined. */
  accept(server: string, tool: string, at: string): Promise<ToolPin | undefined>;
  /** Grows whenever any pin changes, in any process sharing the store; 0 when there is none. */
  version(): Promise<number>;
}
