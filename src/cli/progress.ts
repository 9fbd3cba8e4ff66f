/**
 * The one progress bar of long-running commands: drawn on stderr, and only when stderr is a
 * terminal and the user did not pass --no-progress (logs and pipes get summary lines instead).
 */
import cliProgress from 'cli-progress';

export type ProgressBar = cliProgress.SingleBar;

/** A bar with the given cli-progress format, or undefined when no bar should be drawn. */
export function progressBar(enabled: boolean, format: string): ProgressBar | undefined {
  if (!enabled || process.stderr.isTTY !== true) return undefined;
  return new cliProgress.SingleBar(
    { format, hideCursor: true, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
}
