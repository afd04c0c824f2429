/** A G1 call that ran and waits for a human to look at it. */
export interface NewReviewItem {
  at: string;
  agent: string;
  profile: string;
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** `ok` or `tool_error`, as the call ended. */
  outcome: string;
  /** The first characters of the result's text, enough to judge it. */
  summary: string;
}

export interface ReviewItem extends NewReviewItem {
  id: string;
  ackedAt?: string;
  ackedBy?: string;
}

export interface ReviewStore {
  add(item: NewReviewItem): Promise<ReviewItem>;
  get(id: string): Promise<ReviewItem | undefined>;
  /** Newest first by `at`; with `pending: true` only those not acknowledged yet (false or absent: all). */
  list(filter?: { pending?: boolean; limit?: number }): Promise<ReviewItem[]>;
  /** Marks an item reviewed; undefined when it does not exist or was acknowledged already. */
  ack(id: string, by: string, at: string): Promise<ReviewItem | undefined>;
}
