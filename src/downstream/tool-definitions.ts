import { ToolSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';

export interface RejectedTool {
  name: string;
  problem: string;
}

/**
 * Keeps the tool definitions that are valid MCP, and names the others. One malformed tool
 * (e.g. an inputSchema without `type: "object"`) must not make a client reject the whole
 * list, so it is left out of the listing and reported instead.
 */
export function checkToolDefinitions(raw: readonly unknown[]): { tools: Tool[]; rejected: RejectedTool[] } {
  const tools: Tool[] = [];
  const rejected: RejectedTool[] = [];
  raw.forEach((candidate, index) => {
    const parsed = ToolSchema.safeParse(candidate);
    if (parsed.success) {
      tools.push(parsed.data);
      return;
    }
    const name = (candidate as { name?: unknown } | null)?.name;
    const issue = parsed.error.issues[0];
    rejected.push({
      name: typeof name === 'string' ? name : `#${index}`,
      problem: issue ? `${issue.path.join('.') || '(tool)'}: ${issue.message}` : 'not a tool definition',
    });
  });
  return { tools, rejected };
}
