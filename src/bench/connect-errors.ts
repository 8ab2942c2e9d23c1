/** Error class of a failed connect: refused, reset, timeout, EADDRNOTAVAIL, EMFILE, http_503, ... */
export function connectErrorClass(err: unknown): string {
  const e = err as { code?: string; message?: string };
  switch (e?.code) {
    case 'ECONNREFUSED':
      return 'connect.refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connect.reset';
    case 'ETIMEDOUT':
      return 'connect.timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'connect.dns';
    case undefined:
      break;
    default:
      return `connect.${e.code}`;
  }
  const message = e?.message ?? '';
  if (/timed out/i.test(message)) return 'connect.timeout';
  if (/hang up|reset/i.test(message)) return 'connect.reset';
  return 'connect.other';
}
