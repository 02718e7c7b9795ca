/** The message of the error `run` throws; a `run` that returns fails the test. */
export function thrown(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected an error");
}
