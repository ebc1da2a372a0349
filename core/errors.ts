// Every error Sensei raises on purpose: one class per failure kind, each with a stable string code.

/** Base of every error Sensei raises on purpose. `code` is stable and machine-readable; `hint` says what to do. */
export class SenseiError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
  }
}

/** The configuration (YAML, flags, environment) is wrong: exit code 2. */
export class ConfigError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CONFIG_INVALID', message, options);
  }
}

/** A database could not be reached or answered with an error outside of row-level problems. */
export class ConnectionError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CONNECTION_FAILED', message, options);
  }
}

/** A credential reference (`env://`, `file://`, `vault://`) could not be resolved. The message never contains the secret. */
export class CredentialError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CREDENTIAL_UNRESOLVED', message, options);
  }
}

/** The Sensei store is unusable (missing extension, locked data dir, failed migration). */
export class StoreError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('STORE_UNAVAILABLE', message, options);
  }
}

/** A plan cannot be made or executed as asked (no matching table, non-empty target, unsupported type). */
export class PlanError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('PLAN_INVALID', message, options);
  }
}

/** Rows were lost or counted twice: rows_read ≠ rows_written + rows_errored. Never ignored. */
export class AccountingError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('ACCOUNTING_MISMATCH', message, options);
  }
}

/** A run is not in a state that allows the requested action (unknown id, not awaiting approval, …). */
export class RunStateError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('RUN_STATE', message, options);
  }
}

/** A certificate failed to verify: bad signature, broken hash chain, altered bytes. */
export class CertificateError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CERTIFICATE_INVALID', message, options);
  }
}

/** The source stopped answering during a load; the run stopped at its last checkpoint and can be resumed. */
export class SourceUnavailableError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('SOURCE_UNAVAILABLE', message, options);
  }
}

/** The target failed in a way retrying cannot fix (disk full, statement timeout, lost for good); resumable once fixed. */
export class TargetFaultError extends SenseiError {
  /** `connection`, `disk_full`, `timeout` or `other`. */
  readonly kind: string;
  constructor(kind: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('TARGET_FAULT', message, options);
    this.kind = kind;
  }
}

/** More rows were queued than the configured error policy allows; the run stopped at a checkpoint. */
export class ErrorPolicyError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('ERROR_POLICY', message, options);
  }
}

/**
 * The capture's spill file (its encrypted per-table detail on local disk) could not be written, or read back as it was
 * written: changed, truncated or removed. The capture must be made again.
 */
export class CaptureSpillError extends SenseiError {
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super('CAPTURE_SPILL', message, options);
  }
}

export const isSenseiError = (e: unknown): e is SenseiError => e instanceof SenseiError;
export const isConfigError = (e: unknown): e is ConfigError => e instanceof ConfigError;
export const isConnectionError = (e: unknown): e is ConnectionError => e instanceof ConnectionError;
export const isCredentialError = (e: unknown): e is CredentialError => e instanceof CredentialError;
export const isStoreError = (e: unknown): e is StoreError => e instanceof StoreError;
export const isPlanError = (e: unknown): e is PlanError => e instanceof PlanError;
export const isAccountingError = (e: unknown): e is AccountingError => e instanceof AccountingError;
export const isRunStateError = (e: unknown): e is RunStateError => e instanceof RunStateError;
export const isSourceUnavailableError = (e: unknown): e is SourceUnavailableError => e instanceof SourceUnavailableError;
export const isTargetFaultError = (e: unknown): e is TargetFaultError => e instanceof TargetFaultError;
export const isErrorPolicyError = (e: unknown): e is ErrorPolicyError => e instanceof ErrorPolicyError;
export const isCertificateError = (e: unknown): e is CertificateError => e instanceof CertificateError;
export const isCaptureSpillError = (e: unknown): e is CaptureSpillError => e instanceof CaptureSpillError;

/** A message for people: the error's own message plus its hint, never a stack. */
export function describeError(e: unknown): string {
  if (e instanceof SenseiError) return e.hint ? `${e.message}\n  → ${e.hint}` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}
