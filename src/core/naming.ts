/**
 * How downstream names are exposed upstream. Tools and prompts become `server__name`;
 * resource URIs get the server as a scheme prefix (`server+demo://x`), which keeps them valid
 * URIs and reversible. Server names cannot contain `__` or `+` (the config schema forbids it).
 */
export const NAME_SEPARATOR = '__';

/** Letters and digits with single `-` or `_` between them: never `__`, never `+`. */
export const SERVER_NAME_PATTERN = /^[A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*$/;
export const SERVER_NAME_RULE = 'a server name is letters, digits and single - or _ between them';

export function exposedName(server: string, name: string): string {
  return `${server}${NAME_SEPARATOR}${name}`;
}

export function splitExposedName(exposed: string): { server: string; name: string } | undefined {
  const at = exposed.indexOf(NAME_SEPARATOR);
  if (at <= 0 || at + NAME_SEPARATOR.length >= exposed.length) return undefined;
  return { server: exposed.slice(0, at), name: exposed.slice(at + NAME_SEPARATOR.length) };
}

export function exposedUri(server: string, uri: string): string {
  return `${server}+${uri}`;
}

export function splitExposedUri(exposed: string): { server: string; uri: string } | undefined {
  const plus = exposed.indexOf('+');
  if (plus <= 0 || !SERVER_NAME_PATTERN.test(exposed.slice(0, plus)) || plus === exposed.length - 1) return undefined;
  return { server: exposed.slice(0, plus), uri: exposed.slice(plus + 1) };
}

/** One name offered by one server (a tool, a prompt, or a resource URI). */
export interface ServerName {
  server: string;
  name: string;
}

/**
 * Exposed names for a profile. `namespaced` prefixes every name with its server. `plain` keeps
 * each name as its server gave it, so that a gateway fronting one server is transparent, and
 * falls back to the prefixed form only for a name that two servers share (nothing is hidden).
 */
export function assignNames(entries: readonly ServerName[], style: 'namespaced' | 'plain', prefix: (server: string, name: string) => string = exposedName): string[] {
  if (style === 'namespaced') return entries.map((entry) => prefix(entry.server, entry.name));
  const servers = new Map<string, Set<string>>();
  for (const entry of entries) {
    const set = servers.get(entry.name) ?? new Set<string>();
    set.add(entry.server);
    servers.set(entry.name, set);
  }
  return entries.map((entry) => (servers.get(entry.name)!.size > 1 ? prefix(entry.server, entry.name) : entry.name));
}
