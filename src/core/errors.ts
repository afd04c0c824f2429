/**
 * The one error type of Gatehouse. Every failure the gateway reports carries a stable string
 * code (documented in docs/errors.md) and typed data; transports turn it into their own
 * shape (JSON-RPC error, HTTP status, exit code) only at the edge.
 */
export const ERROR_CODES = {
  GH_CONFIG_INVALID: 'the configuration file does not match the schema',
  GH_CONFIG_NOT_FOUND: 'no configuration file was found',
  GH_AUTH_MISSING: 'the request carries no bearer token',
  GH_AUTH_UNKNOWN_TOKEN: 'the bearer token belongs to no agent',
  GH_AUTH_PROFILE_FORBIDDEN: "the agent's token is not valid for this profile",
  GH_PROFILE_UNKNOWN: 'the profile does not exist',
  GH_TOOL_NOT_ALLOWED: "the tool is not part of the caller's profile (or does not exist)",
  GH_RESOURCE_NOT_ALLOWED: "the resource is not part of the caller's profile (or does not exist)",
  GH_PROMPT_NOT_ALLOWED: "the prompt is not part of the caller's profile (or does not exist)",
  GH_INVALID_ARGUMENTS: "the arguments do not match the tool's inputSchema, or a command-line option has a value it cannot take",
  GH_TOOL_NOT_INDEXED: 'the tool schema is not in the cache and lazy discovery never starts a server',
  GH_DOWNSTREAM_UNAVAILABLE: 'the downstream server could not be started or reached',
  GH_DOWNSTREAM_TIMEOUT: 'the downstream server did not answer within the call timeout',
  GH_DOWNSTREAM_ERROR: 'the downstream server answered with a protocol error',
  GH_CANCELLED: 'the caller cancelled the call',
  GH_CLIENT_CAPABILITY_MISSING: "the agent's client does not support what the downstream server asked for",
  GH_ROUTING_AMBIGUOUS: 'a server-to-client request could not be tied to exactly one caller',
  GH_LISTEN_FAILED: 'the HTTP server could not bind its address (port in use, or not permitted)',
  GH_IMPORT_INVALID: 'the file to import is not an mcpServers JSON document',
  GH_OUTPUT_EXISTS: 'the output file exists and --force was not given',
  GH_TOOL_QUARANTINED: 'the tool definition changed since it was pinned; it is hidden and refused until `gatehouse tools accept`',
  GH_TOOL_UNKNOWN: 'no tool of that name is known (for `gatehouse tools accept`: none is quarantined under that name)',
  GH_DRY_RUN: 'a dry run: the decision and the plan are returned, nothing was executed',
  GH_CONFIRM_REQUIRED: 'a G3 preflight: nothing was executed; call again with confirm "SEND" and the confirm_token',
  GH_CONFIRM_INVALID: 'the confirm token is malformed, altered, expired, foreign, or for other arguments',
  GH_APPROVAL_PENDING: 'the call waits for a human approval; call again with the approval_id once it is decided',
  GH_APPROVAL_REJECTED: 'a human rejected the call; the reason is in the message',
  GH_APPROVAL_TIMEOUT: 'no human decided within the approval timeout, so the call was denied',
  GH_APPROVAL_EXPIRED: 'the approval request or its grant expired before it was used',
  GH_APPROVAL_MISMATCH: 'the approval was granted for another tool, other arguments, another agent or policy version',
  GH_APPROVAL_USED: 'the approval grant was already used (a grant is single-use)',
  GH_APPROVAL_UNKNOWN: 'no approval request has that id',
  GH_APPROVAL_DECIDED: 'the approval request was already decided or has expired',
  GH_SELF_APPROVAL: 'an agent may not decide its own approval request',
  GH_NOT_OPERATOR: 'the request needs an operator token, not an agent token',
  GH_IDEMPOTENCY_MISMATCH: 'the idempotency key was used before with other arguments (like HTTP 422)',
  GH_IDEMPOTENCY_CONFLICT: 'a call with the same idempotency key is still running (like HTTP 409); retry later',
  GH_GATEWAY_STOPPED: 'the gateway running the call stopped (killed or crashed) before it answered; recorded when the next gateway started',
  GH_OUTCOME_UNKNOWN: 'the call was in flight when its gateway stopped; whether it ran is unknown, so it is not sent again until an operator decides (gatehouse commits resolve)',
  GH_COMMIT_UNKNOWN: '`gatehouse commits resolve`: no call with an unknown outcome has that key (or several do: name --agent and --tool)',
  GH_DEAD_LETTER_UNKNOWN: '`gatehouse dlq`: no dead letter has that id (in the table or the fallback file)',
  GH_DEAD_LETTER_SETTLED: '`gatehouse dlq retry|drop`: the dead letter is not open (being retried, retried, or dropped)',
  GH_REVIEW_UNKNOWN: 'no review item has that id, or it was acknowledged already',
  GH_PIPELINE_DEFINITION_INVALID: 'the pipeline definition file is not valid YAML or does not match the schema',
  GH_PIPELINE_SOURCE_INVALID: 'a source file changed while it was loaded; nothing of it was kept',
  GH_PIPELINE_DATA_MISSING: 'the data folder of a pipeline run does not exist, or holds no file of any source',
  GH_PIPELINE_ENGINE: 'the SQL engine (DuckDB or PostgreSQL) refused a statement of the pipeline',
  GH_PIPELINE_INVARIANT: 'rows in did not equal rows promoted plus rows quarantined at a gate (a bug: nothing was published)',
  GH_PIPELINE_CONTRACT: 'gate E refused to publish: a Final table breaks its serving contract or removes/retypes a published column without a new contract version',
  GH_PIPELINE_NOT_LOADED: 'there is nothing to read or replay: no pipeline database yet, or the layer asked for has not been built',
  GH_PIPELINE_INTERRUPTED: 'a pipeline run or replay was stopped by a signal (SIGINT, SIGTERM) before it finished; it is recorded as interrupted',
  GH_QUARANTINE_UNKNOWN: 'no quarantined row or held partition matches the release',
  GH_QUARANTINE_RELEASED: 'every quarantined row and held partition the release names is already released, waiting for a replay',
  GH_STORE_UNAVAILABLE: 'the store (the SQLite file or the PostgreSQL database) could not be opened, reached or migrated',
  GH_CIRCUIT_OPEN: "the server's circuit is open after repeated failures: calls fail fast until the time named (like HTTP 503)",
  GH_SERVER_FAILED: 'the server crashed too many times in a row and is marked failed; it is started again only at the time named',
  GH_SERVER_BUSY: 'the server has as many calls in flight and queued as its bulkhead allows (like HTTP 503); retry shortly',
  GH_REQUEST_TOO_LARGE: "the call's arguments exceed the server's maxRequestBytes",
  GH_BODY_TOO_LARGE: 'an HTTP request body to the approvals API exceeds http.maxBodyBytes (HTTP 413)',
  GH_RESULT_TOO_LARGE: "the server's result exceeds its maxResultBytes; it was dropped",
  GH_DOWNSTREAM_INVALID: 'the server answered the call with a message that is not valid JSON-RPC',
  GH_GATEWAY_UNREACHABLE: '`gatehouse servers` found no running gateway at the address, or it refused the operator token',
  GH_RATE_LIMITED: "the agent exceeded its rate limit (like HTTP 429); data.retryAfterMs says when to call again",
  GH_AUDIT_KEY_INVALID: 'the audit signing key file cannot be read or created, or it (or a --public-key file) is not an Ed25519 key',
  GH_AUDIT_FILE_INVALID: 'an audit export or checkpoint file is not in the format gatehouse audit writes',
  GH_AUDIT_CHAIN_BROKEN: 'the audit chain does not verify, so gatehouse audit prune refused to delete anything',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class GatehouseError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatehouseError';
    this.code = code;
    this.data = data;
  }

  toJSON(): { code: ErrorCode; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export function isGatehouseError(value: unknown, code?: ErrorCode): value is GatehouseError {
  return value instanceof GatehouseError && (code === undefined || value.code === code);
}
