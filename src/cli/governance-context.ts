import { userInfo } from 'node:os';
import { openStores } from '../app.js';
import type { GatehouseConfig } from '../config/load.js';
import type { GatehouseEvent } from '../core/events.js';
import type { GatewayStores } from '../gateway/gateway.js';
import { ApprovalDesk } from '../governance/approval-desk.js';

/** What the operator commands work on: the stores of the config, and events written straight to them. */
export interface OperatorStores {
  stores: GatewayStores;
  desk: ApprovalDesk;
  record: (event: Omit<GatehouseEvent, 'at'>) => void;
  close: () => void;
}

export function openOperatorStores(config: GatehouseConfig): OperatorStores {
  const { stores, close } = openStores(config);
  const record = (event: Omit<GatehouseEvent, 'at'>) => stores.events.append({ ...event, at: new Date().toISOString() });
  return { stores, desk: new ApprovalDesk(stores.approvals, record, config.governance.approvalPollMs), record, close };
}

/** Who is deciding, when --by is not given: the operating-system user running the command. */
export function defaultOperator(): string {
  try {
    return userInfo().username;
  } catch {
    return 'operator';
  }
}
