/**
 * The conformance suite against the in-process LocalEngine and against TinkerEngine → `spell serve`
 * (a child process on a free loopback port, serving the same tiny random folder), plus the
 * cross-engine check: both give the same samples and the same updated weights for the same inputs.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalEngine } from '../../src/engine/local/index.ts';
import { TinkerEngine } from '../../src/engine/tinker/index.ts';
import { runEngineConformance, trainingScript } from './conformance.ts';
import { makeTinyModel, startServeProcess, type ServeProcess } from './fixtures.ts';

const model = makeTinyModel();
let serve: ServeProcess | undefined;

beforeAll(async () => {
  serve = await startServeProcess([
    model.modelDir,
    '--checkpoint-dir',
    model.checkpointDir,
    '--long-poll-seconds',
    '5',
  ]);
});

afterAll(async () => {
  await serve?.stop();
  model.remove();
});

const local = (): Promise<LocalEngine> =>
  LocalEngine.open({ modelDir: model.modelDir, checkpointDir: `${model.checkpointDir}-local` });
// What `spell serve` opens for create_model with lora_config {rank: 8} (alpha 32, all targets, seed 0).
const localLora = (): Promise<LocalEngine> =>
  LocalEngine.open({
    modelDir: model.modelDir,
    checkpointDir: `${model.checkpointDir}-local-lora`,
    lora: { rank: 8 },
  });
const remote = (): Promise<TinkerEngine> =>
  TinkerEngine.connect({ baseUrl: serve!.url, baseModel: 'tiny', heartbeatMs: 0, loraRank: 8 });

runEngineConformance('local (in-process)', local);
runEngineConformance('local LoRA (in-process)', localLora);
const remoteProto = (): Promise<TinkerEngine> =>
  TinkerEngine.connect({
    baseUrl: serve!.url,
    baseModel: 'tiny',
    heartbeatMs: 0,
    loraRank: 8,
    wire: 'protobuf',
  });

runEngineConformance('tinker → spell serve', remote);
runEngineConformance('tinker (protobuf, as SDK >= 0.25) → spell serve', remoteProto);

describe('cross-engine', () => {
  test('local and remote give the same samples, losses and updated weights', async () => {
    const a = await localLora();
    const b = await remote();
    try {
      const c = await remoteProto();
      try {
        const [ra, rb, rc] = [
          await trainingScript(a),
          await trainingScript(b),
          await trainingScript(c),
        ];
        expect(rb).toEqual(ra);
        // The protobuf wire carries log-probs as float32 (the SDK schema): equal to float32 rounding,
        // which the PPO update then carries into the weights.
        expect(closeTo(rc, ra, 1e-3)).toBe(true);
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await b.close();
    }
  });
});

/** Same structure, numbers equal within a relative tolerance. */
function closeTo(a: unknown, b: unknown, rel: number): boolean {
  if (typeof a === 'number' && typeof b === 'number') {
    return Math.abs(a - b) <= rel * Math.max(1, Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => closeTo(x, b[i], rel));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    return (
      ka.join() === kb.join() &&
      ka.every((k) =>
        closeTo((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], rel),
      )
    );
  }
  return a === b;
}
