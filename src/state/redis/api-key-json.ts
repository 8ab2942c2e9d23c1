import type { ApiKeyRecord } from '../state-backend.js';

/** An API key record as stored in Redis (JSON); records written before `roomCreator` existed read as null. */
export function parseApiKeyRecord(raw: string): ApiKeyRecord {
  return { roomCreator: null, ...(JSON.parse(raw) as Omit<ApiKeyRecord, 'roomCreator'> & { roomCreator?: string | null }) };
}
