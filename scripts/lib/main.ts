/** Runs a script's main function; a failure prints its message (and cause) and exits 1
 * instead of dumping a stack for expected errors such as bad configuration. */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const expected = error instanceof Error && ["ConfigError", "PortInUseError"].includes(error.name);
    if (expected) console.error(`error: ${error.message}`);
    else console.error(error);
    process.exitCode = 1;
  }
}
