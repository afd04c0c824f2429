import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** An MCP client connected to one gateway profile, and how to end its session. */
export interface ProfileClient {
  client: Client;
  /** Ends the HTTP session (DELETE) so the gateway does not keep it until its idle sweep. */
  close(): Promise<void>;
}

/** Connects an SDK client to `<baseUrl>/mcp/<profile>` with a bearer token, as an agent would. */
export async function connectProfile(baseUrl: string, profile: string, token: string): Promise<ProfileClient> {
  const client = new Client({ name: 'gatehouse-bench', version: '0.1.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp/${profile}`), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return {
    client,
    close: async () => {
      await transport.terminateSession().catch(() => undefined);
      await client.close();
    },
  };
}

/** The gateway's `/healthz` document. */
export interface Health {
  status: string;
  sessions: number;
  serversRunning: string[];
}

/** Reads `/healthz`, which needs no token. */
export async function fetchHealth(baseUrl: string): Promise<Health> {
  const response = await fetch(`${baseUrl}/healthz`);
  if (!response.ok) throw new Error(`/healthz answered ${response.status}`);
  return (await response.json()) as Health;
}
