/**
 * The one Ctrl-C policy of long-running commands: the first SIGINT asks the work to stop at its
 * next safe point (through an AbortSignal) and says so on stderr; a second exits at once with 130.
 */
export interface Interrupt {
  readonly signal: AbortSignal;
  /** Stop listening for SIGINT (call when the work is done). */
  dispose(): void;
}

export function onInterrupt(command: string, whatHappens: string): Interrupt {
  const controller = new AbortController();
  let count = 0;
  const handler = (): void => {
    count += 1;
    if (count > 1) process.exit(130);
    process.stderr.write(`\nspell ${command}: ${whatHappens} (Ctrl-C again to quit at once)\n`);
    controller.abort();
  };
  process.on('SIGINT', handler);
  return { signal: controller.signal, dispose: () => void process.off('SIGINT', handler) };
}
