/**
 * How downstream names are exposed upstream. Tools and prompts become `server__name`;
 * resource URIs get the server as a scheme prefix (`server+demo://x`), which keeps them valid
 * URIs and reversible. Server names cannot contain `__` or `+` (the config schema forbids it).
 */
export const NAME_SEPARATOR = '__';

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
  const match = /^([A-Za-z0-9]+(?:[-_][A-Za-z0-9]+)*)\+(.+)$/.exec(exposed);
  if (!match) return undefined;
  return { server: match[1]!, uri: match[2]! };
}
