import { userInfo } from 'node:os';
import { openStores } from '../app.js';
import type { GatehouseConfig } from '../config/load.js';
import type { RecordEvent } from '../core/events.js';
import type { GatewayStores } from '../gateway/gateway.js';
import { ApprovalDesk, grantTtlFromConfig } from '../governance/approval-desk.js';
import type { CliContext } from './context.js';

/** What the operator commands work on: the stores of the config, and events written straight to them. */
export interface OperatorStores {
  stores: GatewayStores;
  desk: ApprovalDesk;
  record: RecordEvent;
  config: GatehouseConfig;
}

/**
 * Loads the config, opens its stores for `body`, and closes them whatever happens, once every
 * event recorded meanwhile is written (a failed event write fails the command).
 */
export async function withOperatorStores<T>(context: CliContext, configFile: string | undefined, body: (operator: OperatorStores) => T | Promise<T>): Promise<T> {
  const config = context.loadConfig(configFile);
  const { stores, close } = await openStores(config.store, config.audit.deadLetterFile);
  const writes: Array<Promise<void>> = [];
  const record: RecordEvent = (event) => void writes.push(stores.events.append({ ...event, at: new Date().toISOString() }));
  const desk = new ApprovalDesk(stores.approvals, record, grantTtlFromConfig(config), config.governance.approvalPollMs);
  try {
    const result = await body({ stores, desk, record, config });
    await Promise.all(writes);
    return result;
  } finally {
    await Promise.allSettled(writes);
    await close();
  }
}

/** Who is deciding, when --by is not given: the operating-system user running the command. */
export function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}
