import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from '@modelcontextprotocol/sdk/validation';

let ajv: AjvJsonSchemaValidator | undefined;

/**
 * One Ajv for the process, built on first use. The SDK builds one per Server and per Client
 * unless given a validator (~10 ms each here): every agent session and every downstream
 * connection paid it, and a start that only lists tools paid it for nothing.
 */
export const sharedJsonSchemaValidator: jsonSchemaValidator = {
  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    return (ajv ??= new AjvJsonSchemaValidator()).getValidator<T>(schema);
  },
};
