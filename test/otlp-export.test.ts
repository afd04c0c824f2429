import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpClient, SERVERS, startServe, tempConfig, TOKENS, waitFor } from './helpers/gatehouse.js';

const AGENT_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

interface Export {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

test('spans reach a real OTLP/HTTP receiver as protobuf: batched while serving, and flushed at shutdown', async () => {
  const exports: Export[] = [];
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      exports.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
      // An empty ExportTraceServiceResponse: zero bytes of protobuf.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const port = (receiver.address() as AddressInfo).port;
  const temp = tempConfig({
    store: { kind: 'sqlite', path: 'state/gatehouse.db' },
    servers: { everything: SERVERS.everything },
    profiles: { builder: { allow: ['everything/*'] } },
    agents: { alice: { profiles: ['builder'], tokenEnv: 'TEST_TOKEN_ALICE' } },
    tracing: { enabled: true, endpoint: `http://127.0.0.1:${port}/v1/traces`, headers: { 'x-collector-key': 'collector-key-0123456789' }, serviceName: 'gatehouse-test' },
  });
  const gateway = await startServe(temp.configPath);
  try {
    const client = await httpClient(gateway.url, 'builder', TOKENS.alice);
    await client.callTool({ name: 'everything__echo', arguments: { message: 'traced' }, _meta: { traceparent: `00-${AGENT_TRACE}-00f067aa0ba902b7-01` } });
    // The batch processor exports every 5 s.
    await waitFor(() => exports.length > 0, 15_000, 'a batch of spans');
    const [first] = exports;
    assert.equal(first!.method, 'POST');
    assert.equal(first!.url, '/v1/traces');
    assert.equal(first!.headers['content-type'], 'application/x-protobuf');
    assert.equal(first!.headers['x-collector-key'], 'collector-key-0123456789', 'configured headers are sent');
    assert.ok(first!.body.length > 0);
    // Protobuf keeps strings as UTF-8 and trace ids as 16 raw bytes: enough to see what was sent.
    assert.ok(first!.body.includes('tools/call everything__echo'), 'the call span');
    assert.ok(first!.body.includes('gatehouse.authorize'), 'a stage span');
    assert.ok(first!.body.includes('gatehouse-test'), 'the service name');
    assert.ok(first!.body.includes(Buffer.from(AGENT_TRACE, 'hex')), "in the agent's trace");

    await client.callTool({ name: 'everything__echo', arguments: { message: 'at shutdown' } });
    await client.close();
    const before = exports.length;
    await gateway.stop(); // SIGTERM: spans not exported yet are flushed before the process exits
    assert.ok(exports.length > before, 'the last spans were flushed at shutdown');
    assert.ok(exports.slice(before).every((e) => e.headers['content-type'] === 'application/x-protobuf' && e.body.length > 0));
  } finally {
    await gateway.stop();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
    temp.cleanup();
  }
});
