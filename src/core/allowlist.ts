/**
 * Profile allowlists: globs over `server/tool`. `*` matches any run of characters other than
 * `/`, `?` one such character; everything else is literal. Pure functions, no I/O.
 */
export type Allowlist = (server: string, tool: string) => boolean;

export function compileAllowlist(patterns: readonly string[]): Allowlist {
  const regexes = patterns.map(globToRegExp);
  return (server, tool) => {
    const key = `${server}/${tool}`;
    return regexes.some((regex) => regex.test(key));
  };
}

/** True when at least one pattern could match some tool of this server. */
export function allowsServer(patterns: readonly string[], server: string): boolean {
  return patterns.some((pattern) => globToRegExp(pattern.slice(0, pattern.indexOf('/'))).test(server));
}

/** Matches a tool name against a per-server tool rule key such as `update_*`. */
export function matchesGlob(pattern: string, value: string): boolean {
  return globToRegExp(pattern).test(value);
}

function globToRegExp(glob: string): RegExp {
  let source = '';
  for (const char of glob) {
    if (char === '*') source += '[^/]*';
    else if (char === '?') source += '[^/]';
    else source += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}
