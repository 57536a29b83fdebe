/**
 * A request refused by a stage: the Kubernetes `Status` the client gets (short, in its own
 * protocol) and the stable error code plus detail that go to the audit record and the log
 * (DESIGN.md: "Internal errors are not wire errors").
 */
import type { ErrorCode } from '../../../core/errors.ts';
import { statusFailure, type StatusObject, type StatusReason } from '../status.ts';

export class Rejection extends Error {
  readonly status: StatusObject;
  constructor(
    readonly code: ErrorCode,
    httpStatus: number,
    reason: StatusReason,
    message: string,
    readonly detail: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.status = statusFailure(httpStatus, reason, message);
  }
}
