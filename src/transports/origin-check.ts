/**
 * DNS-rebinding protection: a browser page on evil.example that resolves its name to 127.0.0.1
 * still sends `Host: evil.example` and `Origin: http://evil.example`, so both are checked
 * against the bound address, the loopback names and the configured extras.
 */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export function hostAllowed(host: string | undefined, boundHost: string, port: number, extra: readonly string[]): boolean {
  if (!host) return false;
  const lower = host.toLowerCase();
  if (extra.map((h) => h.toLowerCase()).includes(lower)) return true;
  const names = new Set([...LOOPBACK_NAMES, boundHost.includes(':') ? `[${boundHost}]` : boundHost]);
  for (const name of names) {
    if (lower === `${name}:${port}` || (port === 80 && lower === name)) return true;
  }
  return false;
}

export function originAllowed(origin: string | undefined, port: number, extra: readonly string[]): boolean {
  if (origin === undefined) return true; // non-browser clients send no Origin
  const lower = origin.toLowerCase();
  if (extra.map((o) => o.toLowerCase()).includes(lower)) return true;
  return LOOPBACK_NAMES.some((name) => lower === `http://${name}:${port}` || (port === 80 && lower === `http://${name}`));
}
