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
runEngineConformance('tinker → spell serve', remote);

describe('cross-engine', () => {
  test('local and remote give the same samples, losses and updated weights', async () => {
    const a = await localLora();
    const b = await remote();
    try {
      const [ra, rb] = [await trainingScript(a), await trainingScript(b)];
      expect(rb).toEqual(ra);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
