/** Protocol limits; every one is configurable on `serve`. */
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
});
