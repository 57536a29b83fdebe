/** Wraps a driver failure as SluiceError STORE_UNAVAILABLE (fail closed); keeps SluiceErrors as they are. */
import { SluiceError, isSluiceError } from '../core/errors.ts';

export function storeUnavailable(operation: string, e: unknown): SluiceError {
  if (isSluiceError(e)) return e;
  const err = e as { message?: unknown; code?: unknown };
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return new SluiceError('STORE_UNAVAILABLE', `store unavailable (${operation}): ${message}`, {
    operation,
    ...(typeof err?.code === 'string' ? { driverCode: err.code } : {}),
  });
}
