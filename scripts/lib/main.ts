import { JengaError, errorMessage } from "../../common/errors";

/** Causes printed under an expected error, at most (a cause may have its own). */
const MAX_CAUSES = 3;

/** Prints a script's failure for a person: an expected JengaError (bad configuration, a port
 * in use) as its message and the messages of its causes, anything else in full, stack and all. */
function printError(error: unknown): void {
  if (error instanceof JengaError && error.expected) {
    console.error(`error: ${error.message}`);
    let cause = error.cause;
    for (let i = 0; i < MAX_CAUSES && cause !== undefined; i++) {
      console.error(`cause: ${errorMessage(cause)}`);
      cause = cause instanceof Error ? cause.cause : undefined;
    }
  } else {
    console.error(error);
  }
}

export type RunMainOptions = {
  /** The exit code of a failure (default 1). */
  exitCode?: number;
};

/** Runs a script's main function; a failure is printed by `printError` and exits with
 * `exitCode`. */
export async function runMain(main: () => Promise<void>, options: RunMainOptions = {}): Promise<void> {
  try {
    await main();
  } catch (error) {
    printError(error);
    process.exitCode = options.exitCode ?? 1;
  }
}
