/** Protocol limits. Frame size, room size and rate are configurable on `serve`; the others are fixed there. */
export interface Limits {
  /** Largest accepted frame in bytes (close 1009 above it). */
  readonly maxPayloadBytes: number;
  /** Longest `peer_id` / `room_id` / relay target, in UTF-16 code units. */
  readonly maxIdLength: number;
  /** Longest `role`, in UTF-16 code units. */
  readonly maxRoleLength: number;
  /** Largest metadata, as the UTF-8 size of its JSON. */
  readonly maxMetadataBytes: number;
  /** Most tags in `metadata.tags`. */
  readonly maxTags: number;
  /** Most peers in one room (ROOM_FULL beyond). */
  readonly maxPeersPerRoom: number;
  /** Token bucket per connection: sustained frames per second. */
  readonly ratePerSecond: number;
  /** Token bucket per connection: burst size (the bucket starts full). */
  readonly rateBurst: number;
  /** Most keys in `filters.properties` of one discover. */
  readonly maxFilterProperties: number;
  /** Most elements in one `$in` / `$nin` list. */
  readonly maxFilterListItems: number;
  /** Longest filter operand (each plain value, operator operand, list element), as its JSON in UTF-16 code units. */
  readonly maxFilterOperandLength: number;
  /** Deepest filter operand: levels of arrays and objects (a scalar is 0, `{}` is 1). */
  readonly maxFilterOperandDepth: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxPayloadBytes: 1024 * 1024,
  maxIdLength: 128,
  maxRoleLength: 64,
  maxMetadataBytes: 16 * 1024,
  maxTags: 64,
  maxPeersPerRoom: 1000,
  ratePerSecond: 100,
  rateBurst: 200,
  maxFilterProperties: 64,
  maxFilterListItems: 256,
  maxFilterOperandLength: 1024,
  maxFilterOperandDepth: 16,
});

/** The part of the limits that bounds the work of one discovery filter. */
export type FilterLimits = Pick<
  Limits,
  'maxFilterProperties' | 'maxFilterListItems' | 'maxFilterOperandLength' | 'maxFilterOperandDepth'
>;
