import { randomUUID } from 'node:crypto';
import { GatehouseError } from '../core/errors.js';
import type { Gateway } from '../gateway/gateway.js';
import type { AgentIdentity } from '../gateway/tokens.js';
import { createMcpSession } from './mcp-session.js';
import { StdioSessionTransport } from './stdio-session-transport.js';

/**
 * `gatehouse connect`: one agent session over this process's stdin/stdout, bound to one profile.
 * The client started this process itself, so no token is asked: the session is the local user's
 * (`local:<profile>`), or `agent`'s when the command was given its token (`--token-env`).
 */
export async function serveStdio(gateway: Gateway, profileName: string, identity?: AgentIdentity): Promise<{ closed: Promise<void> }> {
  const profile = gateway.profiles.get(profileName);
  if (!profile) {
    throw new GatehouseError('GH_PROFILE_UNKNOWN', `unknown profile "${profileName}" (known: ${[...gateway.profiles.keys()].join(', ')})`);
  }
  const session = `stdio-${randomUUID()}`;
  const agent = identity ?? { name: `local:${profileName}`, profiles: [profileName] };
  const server = createMcpSession(gateway, agent, profile, session);
  const removeSession = gateway.addSession({ id: session, profile, server });
  const closed = new Promise<void>((resolve) => {
    server.onclose = () => {
      removeSession();
      resolve();
    };
  });
  gateway.record({ type: 'session.opened', agent: agent.name, profile: profileName, payload: { session, transport: 'stdio' } });
  // The largest message an agent may send is the same over stdio as over HTTP.
  const transport = new StdioSessionTransport(gateway.config.http.maxBodyBytes);
  transport.onerror = (error) => gateway.log.warn({ session, err: error.message }, 'stdio transport');
  await server.connect(transport);
  return { closed: closed.then(() => gateway.record({ type: 'session.closed', agent: agent.name, profile: profileName, payload: { session } })) };
}
