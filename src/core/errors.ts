/**
 * The typed error hierarchy. Libraries throw these; only `src/cli/` turns them into exit codes.
 * Every message says what was expected, what was found, and where (file, field, value).
 */

/** Base class of every error spell throws on purpose. */
export class SpellError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Invalid configuration or command-line input. Fatal: fix the config and re-run. */
export class ConfigurationError extends SpellError {}

/** A corrupt or malformed input file or record (corpus, benchmark, score input). */
export class DataError extends SpellError {
  constructor(
    message: string,
    readonly location: { file?: string; row?: number; field?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A tensor shape, NaN or state problem inside an engine. */
export class EngineError extends SpellError {}

/** A remote engine answered with an error, or could not be reached after retries. */
export class RemoteEngineError extends SpellError {
  constructor(
    message: string,
    readonly endpoint: string,
    readonly status?: number,
    readonly body?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A checkpoint or model folder that is missing, truncated or does not match the model. */
export class CheckpointError extends SpellError {}

/** The evaluation harness could not run (missing benchmark file, no tokenizer, ...). */
export class EvalError extends SpellError {}

/** The user interrupted a command (Ctrl-C / SIGTERM) after it stopped cleanly; the CLI exits 130. */
export class InterruptedError extends SpellError {}

/** A formatted message for an unknown thrown value; never loses the original text. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
