/**
 * The controller's part of a checkpoint: everything besides engine weights that a resumed run needs
 * to continue exactly as an uninterrupted one (decision 7): the step, the data sampler's position,
 * the history memory (decision 2: checkpointed, unlike the reference), every RNG stream and the
 * engine seed counter.
 */
import { z } from 'zod';
import { CheckpointError } from '../core/errors.ts';

const rngState = z.tuple([
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
  z.number().int().nonnegative(),
]);

export const ControllerStateSchema = z
  .object({
    version: z.literal(1),
    /** Last completed step. */
    step: z.number().int().nonnegative(),
    sampler: z.unknown(),
    memory: z.unknown(),
    /** The repeated-reference guard's window (absent in checkpoints from before it existed). */
    references: z.unknown().optional(),
    rng: z
      .object({ docs: rngState, letters: rngState, badCase: rngState, verifier: rngState })
      .strict(),
    seedCounter: z.number().int().nonnegative(),
    /** What the engine's `load` accepts to restore its state. */
    engineRef: z.string(),
  })
  .strict();

export type ControllerState = z.infer<typeof ControllerStateSchema>;

export function parseControllerState(value: unknown, source: string): ControllerState {
  const parsed = ControllerStateSchema.safeParse(value);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new CheckpointError(`controller state ${source} is malformed: ${issues}`);
  }
  return parsed.data;
}
