/** Failures of the customization endpoint: HTTP status plus DashScope code/message (voice-customization.md §7). */

export class CustomizationError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function invalidParameter(message: string): CustomizationError {
  return new CustomizationError(400, 'InvalidParameter', message);
}

/** Third-party: a model name the endpoint does not serve, or one service's action sent to another. */
export function modelNotExist(): CustomizationError {
  return new CustomizationError(400, 'InvalidParameter', 'Model not exist.');
}

export function quotaExceeded(): CustomizationError {
  return new CustomizationError(429, 'Throttling.AllocationQuota', 'Maximum voice-clone voice limit exceeded.');
}
