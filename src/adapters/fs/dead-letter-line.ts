import { z } from 'zod';
import { DEAD_LETTER_STATUSES, type DeadLetterFallbackLine } from '../../ports/dead-letter-store.js';

const text = z.string().min(1);

const movedLine = z.object({ id: text, movedToStoreAt: text });

const letterLine = z.looseObject({
  id: text,
  kind: z.enum(['call', 'events']),
  status: z.enum(DEAD_LETTER_STATUSES),
  createdAt: text,
  agent: z.string().optional(),
  profile: z.string().optional(),
  server: z.string().optional(),
  tool: z.string().optional(),
  payload: z.record(z.string(), z.unknown()),
  error: z.object({ code: z.string(), message: z.string() }),
  attempts: z.number().int().min(0),
  settledAt: z.string().optional(),
  settledBy: z.string().optional(),
  settleReason: z.string().optional(),
  claimedBy: z.string().optional(),
});

/** What `dlq list` shows and `dlq retry` re-runs of each kind (see DeadLetterKind). */
const payloadOf = {
  events: z.looseObject({ events: z.array(z.looseObject({ type: z.string() })) }),
  call: z.looseObject({ exposedName: text, arguments: z.record(z.string(), z.unknown()) }),
};

/**
 * One line of the dead-letter file, checked: a line another program wrote, or a disk damaged,
 * must not reach `dlq list` or `dlq retry` as a letter it only looks like. The problem as
 * `path: what is wrong` otherwise.
 */
export function parseDeadLetterLine(line: string): { line: DeadLetterFallbackLine } | { problem: string; notJson?: true } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { problem: `not JSON (${(error as Error).message})`, notJson: true };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'not a JSON object' };
  if ('movedToStoreAt' in value) {
    const moved = movedLine.safeParse(value);
    return moved.success ? { line: moved.data } : { problem: `not a "moved to the store" note: ${describe(moved.error)}` };
  }
  const letter = letterLine.safeParse(value);
  if (!letter.success) return { problem: `not a dead letter: ${describe(letter.error)}` };
  const payload = payloadOf[letter.data.kind].safeParse(letter.data.payload);
  if (!payload.success) return { problem: `not a dead letter of kind ${letter.data.kind}: ${describe(payload.error, 'payload.')}` };
  return { line: letter.data };
}

function describe(error: z.ZodError, prefix = ''): string {
  return error.issues.map((issue) => `${prefix}${issue.path.join('.') || '(the whole)'}: ${issue.message}`).join('; ');
}
