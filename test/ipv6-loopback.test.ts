import { test } from 'node:test';
import assert from 'node:assert/strict';
import { httpClient, startServe, standardConfig, tempConfig, text, TOKENS } from './helpers/gatehouse.js';

// A gateway bound to the IPv6 loopback: the URL it prints must be usable as printed (the address in
// brackets), and a client using it must pass the gateway's own Host check.
test('a gateway on ::1 prints a bracketed URL that a client can use as it is: health, and a tool call', async () => {
  const temp = tempConfig(standardConfig());
  const gateway = await startServe(temp.configPath, {}, '::1');
  try {
    assert.match(gateway.url, /^http:\/\/\[::1\]:\d+$/);
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const client = await httpClient(gateway.url, 'narrow', TOKENS.bob);
    try {
      const result = await client.callTool({ name: 'everything__echo', arguments: { message: 'over ipv6' } });
      assert.match(text(result as Parameters<typeof text>[0]), /over ipv6/);
    } finally {
      await client.close();
    }
  } finally {
    await gateway.stop();
    temp.cleanup();
  }
});
