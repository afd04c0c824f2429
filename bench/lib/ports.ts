import { readFileSync } from 'node:fs';
import net from 'node:net';

/** A free TCP port on 127.0.0.1 (closed again at once; the caller binds it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Throws if anything listens on `port` on an address other than loopback (read from
 * /proc/net/tcp and tcp6; a no-op where they do not exist).
 */
export function assertLoopbackOnly(port: number): void {
  const exposed: string[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const [address, portHex] = (fields[1] ?? '').split(':');
      if (fields[3] !== '0A' || !address || Number.parseInt(portHex ?? '', 16) !== port) continue; // 0A = LISTEN
      if (!isLoopbackHex(address)) exposed.push(`${file}: ${address}`);
    }
  }
  if (exposed.length > 0) throw new Error(`port ${port} is bound beyond loopback: ${exposed.join(', ')}`);
}

function isLoopbackHex(address: string): boolean {
  if (address.length === 8) return address.slice(6, 8) === '7F'; // little-endian IPv4: 127.x.x.x
  if (address === '00000000000000000000000001000000') return true; // ::1
  return address.startsWith('0000000000000000FFFF0000') && address.slice(30, 32) === '7F'; // ::ffff:127.x.x.x
}
