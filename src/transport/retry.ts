/**
 * Which connection errors are worth another try, and how long to wait. Only errors from *before* a session
 * exists qualify (refused while the host boots, reset, handshake timeout): a command is never run twice.
 */

const transientCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

const transientMessages = [
  /timed out while waiting for handshake/i,
  /connection lost before handshake/i,
  /^no response from server/i,
  /socket hang up/i,
  /kex_exchange_identification/i,
];

/** Is this error from connecting (TCP or SSH handshake) one that may go away by itself? */
export function isTransientConnectError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const {code, message, level} = error as {code?: unknown; message?: unknown; level?: unknown};
  if (typeof code === 'string' && transientCodes.has(code)) return true;
  if (level === 'client-authentication') return false;
  if (typeof message === 'string' && transientMessages.some((re) => re.test(message))) return true;
  return false;
}

/** Exponential backoff with a cap: 250 ms, 500 ms, 1 s, 2 s, then `maxMs`. */
export function backoffDelay(attempt: number, initialMs = 250, maxMs = 2000): number {
  return Math.min(maxMs, initialMs * 2 ** attempt);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
