/**
 * One base class for every error the project throws on purpose, in viem's manner: a `name`
 * per subclass, a message that says what happened and how to fix it, the `cause` kept, and
 * optional structured `details` for callers that act on them. `expected` marks an error a
 * person can fix from its message (bad configuration, a port in use): scripts print its
 * message alone, and anything else with its stack.
 */
export type JengaErrorOptions = {
  cause?: unknown;
  /** Structured facts about the failure, for callers and logs (kept out of the message). */
  details?: Readonly<Record<string, unknown>>;
};

export class JengaError extends Error {
  override name = "JengaError";
  /** A person can act on the message alone; no stack is needed. */
  readonly expected: boolean = false;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(message: string, options: JengaErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }
}

/** The message of anything thrown: an Error's message, anything else as a string. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
