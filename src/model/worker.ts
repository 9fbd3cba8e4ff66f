/**
 * The model worker: holds one Qwen3Model off the main thread and serves RunnerRequests in
 * arrival order (the model is single-threaded state; the gemm itself spreads over the cores).
 * Loaded by runner.ts through a tiny bootstrap that registers tsx first.
 */
import { parentPort } from 'node:worker_threads';
import { EngineError } from '../core/errors.ts';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { parseQwen3Config, toHfConfigJson } from './config.ts';
import { gemmBackend, setGemmBackend, setGemmThreads } from './kernels/gemm.ts';
import { Qwen3Model } from './model.ts';
import { loadModelFolder } from './model-folder.ts';
import type {
  RunnerModelInfo,
  RunnerOp,
  RunnerOps,
  RunnerRequest,
  RunnerResponse,
} from './protocol.ts';

let model: Qwen3Model | null = null;

function need(): Qwen3Model {
  if (!model) throw new EngineError('model worker: no model loaded (init was not called)');
  return model;
}

function info(m: Qwen3Model): RunnerModelInfo {
  return {
    hfConfig: toHfConfigJson(m.config),
    paramCount: m.table.totalSize,
    optimizerStep: m.adamState.step,
    gemmBackend: gemmBackend(),
  };
}

type Handlers = { [K in RunnerOp]: (req: RunnerOps[K]['req']) => RunnerOps[K]['res'] };

const handlers: Handlers = {
  init: ({ source, gemmBackend: backend, gemmThreads }) => {
    if (backend) setGemmBackend(backend);
    if (gemmThreads) setGemmThreads(gemmThreads);
    model =
      source.kind === 'folder'
        ? loadModelFolder(source.dir)
        : Qwen3Model.random(parseQwen3Config(source.hfConfig, 'random model config'), source.seed);
    return info(model);
  },
  info: () => info(need()),
  forward: ({ data, loss, config }) => need().forward(data, loss, config),
  forwardBackward: ({ data, loss, config }) => need().forwardBackward(data, loss, config),
  optimStep: ({ adam }) => ({ ...need().optimStep(adam) }),
  sample: ({ request }) => need().sample(request),
  save: ({ dir, adapter, tokenizerDir }) => {
    saveCheckpoint(dir, need(), adapter, tokenizerDir);
    return { dir };
  },
  load: ({ dir }) => ({ adapter: loadCheckpoint(dir, need()) }),
  spin: ({ ms }) => {
    const end = Date.now() + ms;
    let n = 0;
    while (Date.now() < end) n++;
    return { spun: n };
  },
};

function dispatch(req: RunnerRequest): unknown {
  const h = handlers[req.op] as (payload: unknown) => unknown;
  return h(req.payload);
}

parentPort?.on('message', (req: RunnerRequest) => {
  let res: RunnerResponse;
  try {
    res = { id: req.id, ok: true, result: dispatch(req) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    res = { id: req.id, ok: false, errorName: e.name, message: e.message };
  }
  parentPort?.postMessage(res);
});
