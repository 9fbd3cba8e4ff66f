#!/usr/bin/env bash
# Exact resume of a SmolLM2 LoRA run (issue 20): the same seed trained STEPS steps straight, and
# trained 1 step, stopped, and resumed to STEPS; then metrics (without wall-clock keys), rollouts,
# adapters and Adam moments are compared byte for byte. Tiny rollout settings keep a step to a few
# minutes on 2 cores. MODEL should be a SmolLM2 folder whose questioner already writes parseable
# questions (the format warm start of scripts/smollm2.sh), so the updates are not all skipped for
# zero advantage; the script prints how many datums each step trained so that can be checked.
#
#   MODEL=runs/smollm2/warm OUT=runs/lora-resume bash scripts/smollm2-lora-resume.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${MODEL:-runs/smollm2/warm}
OUT=${OUT:-runs/lora-resume}
RANK=${RANK:-16}
STEPS=${STEPS:-2}
SEED=${SEED:-7}
SPELL=(node bin/spell.js)
ARGS=(
  --model "$MODEL" --seed "$SEED" --no-progress checkpointEvery=1
  "engine.loraRank=$RANK" optim.learningRate=5e-4
  data.docsPerQuestion=1 data.taskWeights.docmath=0
  rollout.genBatchSize=3 rollout.maxGenBatches=1 rollout.responderGroups=1 rollout.groupSize=2
  rollout.verifierVotes=2 rollout.maxResponseTokens=96
)
rm -rf "$OUT" && mkdir -p "$OUT"
start=$(date +%s)
"${SPELL[@]}" train --run-dir "$OUT/straight" --steps "$STEPS" "${ARGS[@]}"
mid=$(date +%s)
"${SPELL[@]}" train --run-dir "$OUT/resumed" --steps 1 "${ARGS[@]}"
"${SPELL[@]}" train --run-dir "$OUT/resumed" --steps "$STEPS" --resume "${ARGS[@]}"
end=$(date +%s)
node - "$OUT" "$STEPS" "$((mid - start))" "$((end - mid))" <<'JS'
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const [out, steps, straightS, splitS] = process.argv.slice(2);
const runs = ['straight', 'resumed'].map((r) => join(out, r));
const metrics = (run) =>
  readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) =>
    Object.fromEntries(Object.entries(JSON.parse(l)).filter(([k]) => !k.startsWith('timing'))));
const same = (f) => readFileSync(join(runs[0], f)).equals(readFileSync(join(runs[1], f)));
const step = `step-${String(steps).padStart(6, '0')}`;
const engine = join('checkpoints', 'engine', step);
const [a, b] = runs.map(metrics);
const result = {
  steps: Number(steps),
  metricsEqual: JSON.stringify(a) === JSON.stringify(b),
  rolloutsEqual: readdirSync(join(runs[0], 'rollouts')).map((f) => same(join('rollouts', f))),
  adaptersEqual: same(join(engine, 'adapter_model.safetensors')),
  optimizerEqual: same(join(engine, 'optimizer.safetensors')),
  adapterBytes: readFileSync(join(runs[0], engine, 'adapter_model.safetensors')).length,
  datumsPerStep: a.map((m) => m['train/datums'] ?? 0),
  skippedPerStep: a.map((m) => m['count/train/skipped_zero_advantage'] ?? 0),
  gradNormPerStep: a.map((m) => m['actor/grad_norm'] ?? null),
  wallSeconds: { straight: Number(straightS), stoppedAndResumed: Number(splitS) },
};
console.log(JSON.stringify(result, null, 2));
const ok = result.metricsEqual && result.rolloutsEqual.every(Boolean) && result.adaptersEqual && result.optimizerEqual;
process.exit(ok ? 0 : 1);
JS
