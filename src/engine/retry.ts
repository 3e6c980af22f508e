/**
 * Opt-in retries (`engine.retries`, default 0: nothing is sent twice). Only an
 * idempotent request (RFC 9110 §9.2.2) whose attempt failed at the connection
 * — before any response could say otherwise — is sent again; a timeout or an
 * HTTP status is an answer of the target and is never retried. Every failed
 * attempt is recorded as an error of its kind; the retries are counted apart.
 */
import type { ErrorKind } from '../timeline.ts';

export const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Failures of the connection, not answers of the target. */
export const RETRYABLE: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['connect_refused', 'connect_timeout', 'reset', 'closed']);

export const isIdempotent = (method: string): boolean => IDEMPOTENT.has(method.toUpperCase());
