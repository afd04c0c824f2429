import type { JsonSchemaType, JsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../../core/errors.js';
import { sharedJsonSchemaValidator } from '../../downstream/json-schema-validator.js';
import type { ResolvedCall } from './types.js';

/**
 * Stage 3: arguments are checked against the tool's inputSchema before anything reaches the
 * server. Validators are compiled once per tool definition (a refreshed listing brings new
 * objects, so the WeakMap never serves a stale schema).
 */
export class ArgumentValidator {
  private readonly compiled = new WeakMap<Tool, JsonSchemaValidator<unknown>>();

  validate(call: ResolvedCall): ResolvedCall {
    const check = this.validatorFor(call);
    const result = check(call.arguments);
    if (!result.valid) {
      throw new GatehouseError('GH_INVALID_ARGUMENTS', `invalid arguments for "${call.name}": ${result.errorMessage}`, {
        tool: call.name,
        problems: result.errorMessage,
      });
    }
    return call;
  }

  private validatorFor(call: ResolvedCall): JsonSchemaValidator<unknown> {
    let check = this.compiled.get(call.tool);
    if (!check) {
      try {
        check = sharedJsonSchemaValidator.getValidator(call.tool.inputSchema as JsonSchemaType);
      } catch (error) {
        throw new GatehouseError(
          'GH_DOWNSTREAM_ERROR',
          `the inputSchema of "${call.name}" cannot be compiled, so its arguments cannot be checked: ${(error as Error).message}`,
          { tool: call.name },
        );
      }
      this.compiled.set(call.tool, check);
    }
    return check;
  }
}
