import { McpError } from '@modelcontextprotocol/sdk/types.js';

/**
 * A JSON-RPC error to send, as an McpError whose message is the text alone. The SDK's McpError
 * puts "MCP error <code>: " in front of its message, the SDK sends that message as it is, and the
 * SDK client that receives it puts the prefix in front again: agents read
 * "MCP error -32602: MCP error -32602: tool … not found". Ours go out with the text alone, and
 * the receiving SDK adds the prefix once.
 */
export function protocolError(code: number, message: string, data?: unknown): McpError {
  const error = new McpError(code, message, data);
  error.message = message;
  return error;
}
