import { Type, type TSchema, type TObject, type TProperties } from '@sinclair/typebox';
import { DEFAULT_LIMITS, type Limits } from './limits.js';
import { ERROR_CODES } from './error-codes.js';
import { WELL_FORMED_PATTERN } from './unicode.js';

/**
 * TypeBox schemas of every message. They are JSON Schema as they stand: the server compiles
 * them to validate, and `docs/protocol.schema.json` is written from the same objects.
 */

/** Optional field where JSON `null` means absent. */
const Opt = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));
/** A required field of any JSON value but null. */
const AnyNonNull = (description: string) =>
  Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Array(Type.Unknown()), Type.Object({})], {
    description,
  });

const Message = (type: string, properties: TProperties, description: string): TObject =>
  Type.Object({ type: Type.Literal(type), ...properties } as TProperties, { additionalProperties: true, description, $id: type });

export const CLIENT_MESSAGE_TYPES = [
  'register',
  'discover_peers',
  'update_metadata',
  'peer_message',
  'offer',
  'answer',
  'candidate',
  'mesh_connect',
  'mesh_answer',
  'ice_candidate',
  'ping',
  'leave',
] as const;
export type ClientMessageType = (typeof CLIENT_MESSAGE_TYPES)[number];
/** Only accepted with `--compat sleap-rtc`: a worker refusing an offer. */
export const COMPAT_MESSAGE_TYPES = ['error'] as const;

export function clientSchemas(limits: Limits = DEFAULT_LIMITS) {
  const Id = (what: string) =>
    Type.String({ minLength: 1, maxLength: limits.maxIdLength, pattern: WELL_FORMED_PATTERN, description: `${what}; well-formed Unicode` });
  const Identity = {
    from_peer_id: Opt(Type.String({ description: 'must equal the sender\'s own peer id' })),
    sender: Opt(Type.String({ description: 'must equal the sender\'s own peer id' })),
    peer_id: Opt(Type.String({ description: 'must equal the sender\'s own peer id' })),
  };
  const Tags = Type.Array(Type.String(), { maxItems: limits.maxTags, description: 'labels; discovery matches any of them' });
  const Properties = Type.Record(Type.String(), Type.Unknown(), { description: 'free-form key/value data' });
  const Metadata = Type.Object(
    { tags: Opt(Tags), properties: Opt(Properties) },
    { additionalProperties: true, description: 'peer metadata; other top-level keys are kept' },
  );
  const Filters = Type.Object(
    {
      role: Opt(Type.String({ description: 'exact role' })),
      tags: Opt(Type.Array(Type.String(), { description: 'match peers having at least one of these' })),
      properties: Opt(
        Type.Record(Type.String(), Type.Unknown(), {
          description:
            'deep equality per key, or an operator object ($eq $ne $gt $gte $lt $lte $in $nin $exists); ' +
            `at most ${limits.maxFilterProperties} keys, ${limits.maxFilterListItems} elements per $in / $nin, ` +
            `operands of at most ${limits.maxFilterOperandLength} characters of JSON and ${limits.maxFilterOperandDepth} levels of nesting`,
        }),
      ),
    },
    { additionalProperties: true },
  );
  return {
    register: Message(
      'register',
      {
        room_id: Opt(Id('room to join; required unless an api_key names it')),
        peer_id: Opt(Id('wanted peer id; the server generates one when absent')),
        role: Opt(Type.String({ maxLength: limits.maxRoleLength, pattern: WELL_FORMED_PATTERN, description: 'default "peer"; well-formed Unicode' })),
        metadata: Opt(Metadata),
        jwt: Opt(Type.String()),
        id_token: Opt(Type.String()),
        api_key: Opt(Type.String()),
        token: Opt(Type.String({ description: 'room token' })),
        is_admin: Opt(Type.Boolean()),
        session_token: Opt(Type.String({ description: 'proves a takeover of a peer id held by an open connection' })),
        presence: Opt(Type.Boolean({ description: 'receive peer_joined / peer_updated / peer_left' })),
      },
      'join a room (or re-register on the same connection)',
    ),
    discover_peers: Message('discover_peers', { ...Identity, filters: Opt(Filters) }, 'list the other peers of the room'),
    update_metadata: Message(
      'update_metadata',
      { ...Identity, metadata: Metadata },
      'merge into the own metadata (null removes a key)',
    ),
    peer_message: Message(
      'peer_message',
      { ...Identity, to_peer_id: Id('target peer'), payload: Type.Unknown({ description: 'any JSON value, null included' }) },
      'application message to one peer of the room',
    ),
    offer: Message('offer', { ...Identity, target: Id('target peer') }, 'WebRTC offer, relayed with sender stamped'),
    answer: Message('answer', { ...Identity, target: Id('target peer') }, 'WebRTC answer, relayed with sender stamped'),
    candidate: Message('candidate', { ...Identity, target: Id('target peer') }, 'ICE candidate, relayed with sender stamped'),
    mesh_connect: Message(
      'mesh_connect',
      { ...Identity, target_peer_id: Id('target peer'), offer: AnyNonNull('mesh offer') },
      'mesh offer; the target gets mesh_offer',
    ),
    mesh_answer: Message(
      'mesh_answer',
      { ...Identity, target_peer_id: Id('target peer'), answer: AnyNonNull('mesh answer') },
      'mesh answer; the target gets mesh_answer',
    ),
    ice_candidate: Message(
      'ice_candidate',
      { ...Identity, target_peer_id: Id('target peer'), candidate: AnyNonNull('ICE candidate') },
      'mesh ICE candidate; the target gets ice_candidate',
    ),
    ping: Message('ping', {}, 'liveness check; answered with pong'),
    leave: Message('leave', { ...Identity }, 'unregister; the connection stays open'),
    error: Message(
      'error',
      { ...Identity, target: Id('target peer') },
      'compat mode only: a worker refusing an offer, relayed like an answer',
    ),
  };
}

export type ClientSchemas = ReturnType<typeof clientSchemas>;

const PeerMetadata = Type.Record(Type.String(), Type.Unknown());
const PeerSummary = Type.Object(
  {
    peer_id: Type.String(),
    role: Type.String(),
    metadata: PeerMetadata,
    connected_at: Type.Number({ description: 'Unix time in seconds, with a fraction' }),
  },
  { additionalProperties: false },
);
const IceServers = Type.Array(Type.Unknown());

const ServerMessage = (type: string, properties: TProperties, description: string): TObject =>
  Type.Object({ type: Type.Literal(type), ...properties } as TProperties, { additionalProperties: false, description, $id: type });

/** Everything the server sends. Relayed WebRTC messages pass unknown fields through. */
export function serverSchemas() {
  const registered = (type: string) =>
    ServerMessage(
      type,
      {
        peer_id: Type.String(),
        room_id: Type.String(),
        role: Type.String(),
        token: Type.Union([Type.String(), Type.Null()]),
        session_token: Type.String(),
        admin_peer_id: Type.Union([Type.String(), Type.Null()]),
        peer_list: Type.Array(Type.String()),
        peer_metadata: Type.Record(Type.String(), PeerMetadata),
        ice_servers: IceServers,
        mesh_ice_servers: IceServers,
        server_id: Type.String(),
      },
      'registration succeeded',
    );
  const relayed = (type: string) =>
    Type.Object(
      { type: Type.Literal(type), target: Type.String(), sender: Type.String() },
      { additionalProperties: true, description: 'the sender\'s message, sender stamped', $id: `relayed_${type}` },
    );
  return {
    registered: registered('registered'),
    registered_auth: { ...registered('registered_auth'), description: 'compat mode name of registered' },
    peer_list: ServerMessage('peer_list', { peers: Type.Array(PeerSummary), count: Type.Integer() }, 'discovery result'),
    metadata_updated: ServerMessage(
      'metadata_updated',
      { peer_id: Type.String(), metadata: PeerMetadata },
      'the merged metadata',
    ),
    peer_message: ServerMessage(
      'peer_message',
      { from_peer_id: Type.String(), to_peer_id: Type.String(), payload: Type.Unknown() },
      'relayed application message',
    ),
    offer: relayed('offer'),
    answer: relayed('answer'),
    candidate: relayed('candidate'),
    relayed_error: relayed('error'),
    mesh_offer: ServerMessage('mesh_offer', { from_peer_id: Type.String(), offer: Type.Unknown() }, 'relayed mesh_connect'),
    mesh_answer: ServerMessage('mesh_answer', { from_peer_id: Type.String(), answer: Type.Unknown() }, 'relayed mesh_answer'),
    ice_candidate: ServerMessage(
      'ice_candidate',
      { from_peer_id: Type.String(), candidate: Type.Unknown() },
      'relayed mesh ICE candidate',
    ),
    pong: ServerMessage('pong', {}, 'reply to ping'),
    ping: ServerMessage('ping', {}, 'application heartbeat; no answer needed'),
    left: ServerMessage('left', { peer_id: Type.String(), room_id: Type.String() }, 'reply to leave'),
    admin_conflict: ServerMessage(
      'admin_conflict',
      { room_id: Type.String(), current_admin: Type.String() },
      'the room already has an admin',
    ),
    peer_joined: ServerMessage(
      'peer_joined',
      { peer_id: Type.String(), role: Type.String(), metadata: PeerMetadata },
      'presence: a peer joined',
    ),
    peer_updated: ServerMessage(
      'peer_updated',
      { peer_id: Type.String(), role: Type.String(), metadata: PeerMetadata },
      'presence: a peer changed role or metadata',
    ),
    peer_left: ServerMessage(
      'peer_left',
      {
        peer_id: Type.String(),
        reason: Type.Union(['left', 'timeout', 'server_lost', 'server_shutdown', 'kicked'].map((r) => Type.Literal(r))),
      },
      'presence: a peer left',
    ),
    error: ServerMessage(
      'error',
      {
        code: Type.Union(ERROR_CODES.map((c) => Type.Literal(c))),
        message: Type.String(),
        reason: Type.String(),
        request_type: Type.Optional(Type.String()),
      },
      'a request failed',
    ),
  };
}
