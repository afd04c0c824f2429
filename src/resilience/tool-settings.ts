import { matchesGlob } from '../core/allowlist.js';
import type { ServerConfig, ToolRuleConfig } from '../config/schema.js';

/** The resilience settings of one tool. */
export interface ToolResilience {
  idempotent: boolean;
  /** From the tool's rule; undefined means the server's timeout. */
  callTimeoutMs: number | undefined;
}

/**
 * Per-tool settings from `servers.S.tools.<name or glob>`: for each setting, the rule with the
 * exact name wins, else the longest glob that sets it (as for gates). Looked up once per tool.
 */
export class ToolSettings {
  private readonly memo = new Map<string, ToolResilience>();

  constructor(private readonly servers: Readonly<Record<string, ServerConfig>>) {}

  of(server: string, tool: string): ToolResilience {
    const key = `${server}/${tool}`;
    let settings = this.memo.get(key);
    if (!settings) {
      const rules = Object.entries(this.servers[server]?.tools ?? {});
      settings = {
        idempotent: pick(rules, tool, (rule) => rule.idempotent) ?? false,
        callTimeoutMs: pick(rules, tool, (rule) => rule.callTimeoutMs),
      };
      this.memo.set(key, settings);
    }
    return settings;
  }
}

function pick<T>(rules: Array<[string, ToolRuleConfig]>, tool: string, value: (rule: ToolRuleConfig) => T | undefined): T | undefined {
  const setting = rules.filter(([, rule]) => value(rule) !== undefined);
  const exact = setting.find(([pattern]) => pattern === tool);
  if (exact) return value(exact[1]);
  const globs = setting.filter(([pattern]) => /[*?]/.test(pattern) && matchesGlob(pattern, tool)).sort(([a], [b]) => b.length - a.length);
  return globs[0] ? value(globs[0][1]) : undefined;
}
