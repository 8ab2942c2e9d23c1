import { clientSchemas, serverSchemas } from './schemas.js';
import { DEFAULT_LIMITS } from './limits.js';

/**
 * The JSON Schema document of the protocol (draft 2020-12), built from the very schemas the
 * server validates with, at the default limits. Written to docs/protocol.schema.json.
 */
export function protocolJsonSchema(): Record<string, unknown> {
  const strip = (schemas: Record<string, object>, prefix: string) =>
    Object.fromEntries(
      Object.entries(schemas).map(([name, schema]) => {
        // TypeBox keeps its own markers on symbols, which JSON.stringify drops; $id would clash in $defs.
        const { $id: _id, ...plain } = JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
        return [`${prefix}${name}`, plain];
      }),
    );
  const client = strip(clientSchemas(DEFAULT_LIMITS), 'client.');
  const server = strip(serverSchemas(), 'server.');
  const refs = (defs: Record<string, unknown>) => Object.keys(defs).map((k) => ({ $ref: `#/$defs/${k}` }));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://sleap.ai/schemas/sleap-signal/protocol-v1.json',
    title: 'sleap-signal wire protocol v1',
    description:
      'Every message of the sleap-signal protocol, generated from the schemas the server validates with. ' +
      'client.* are messages a client sends (client.error only in --compat sleap-rtc); server.* are messages the server sends. ' +
      'Limits are the defaults; a server may be configured with others. Rules beyond JSON Schema (identity, filters, merges) are in docs/protocol.md.',
    oneOf: [
      { title: 'client message', oneOf: refs(client) },
      { title: 'server message', anyOf: refs(server) },
    ],
    $defs: { ...client, ...server },
  };
}
