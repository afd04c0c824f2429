/**
 * DNS-rebinding protection: a browser page on evil.example that resolves its name to 127.0.0.1
 * still sends `Host: evil.example` and `Origin: http://evil.example`, so both are checked
 * against the bound address, the loopback names and the configured extras.
 */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

export interface OriginCheck {
  hostAllowed(host: string | undefined): boolean;
  /** Non-browser clients send no Origin: allowed. */
  originAllowed(origin: string | undefined): boolean;
}

/** The accepted Host and Origin values for a server bound to `boundHost:port`, computed once. */
export function originCheck(boundHost: string, port: number, extraHosts: readonly string[], extraOrigins: readonly string[]): OriginCheck {
  const names = [...LOOPBACK_NAMES, boundHost.includes(':') ? `[${boundHost}]` : boundHost];
  const hosts = new Set([...extraHosts.map((host) => host.toLowerCase()), ...names.map((name) => `${name}:${port}`), ...(port === 80 ? names : [])]);
  const origins = new Set([
    ...extraOrigins.map((origin) => origin.toLowerCase()),
    ...LOOPBACK_NAMES.map((name) => `http://${name}:${port}`),
    ...(port === 80 ? LOOPBACK_NAMES.map((name) => `http://${name}`) : []),
  ]);
  return {
    hostAllowed: (host) => host !== undefined && hosts.has(host.toLowerCase()),
    originAllowed: (origin) => origin === undefined || origins.has(origin.toLowerCase()),
  };
}
