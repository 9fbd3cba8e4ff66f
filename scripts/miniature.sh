#!/usr/bin/env bash
# SPELL in miniature (issue 8): does label-free self-play improve the bundled model on held-out
# questions, and how does it compare with static RLVR on labeled questions at the same budget?
#
#   1. baseline: `spell eval --suite synthetic` on assets/model (held-out seeds, programmatic answers)
#   2. SPELL:    `spell train` (preset local) for MINUTES, then the same evaluation of its last checkpoint
#   3. control:  `spell train mode=rlvr` on labeled TRAINING questions for MINUTES, then the same evaluation
#   4. table:    OUT/results.md (+ results.json) and OUT/results.html (plots: held-out accuracy over
#                steps from MID_EVALS intermediate checkpoints per arm, pass@k, training accuracy)
#
# Usage: MINUTES=30 LIMIT=30 N=4 OUT=runs/miniature bash scripts/miniature.sh
# (STAGES="baseline spell rlvr table" selects stages, e.g. to re-run one arm; MODEL=<folder> starts
# every arm from another warm-start model; SPELL_ARGS / RLVR_ARGS add key=value overrides to one arm;
# STEPS caps the steps of each arm and CHECKPOINT_EVERY sets its checkpoint spacing; SPELL_ARM names
# the self-play arm, so variants can sit side by side, and TABLE_ARMS lists the arms of the table.
# STAGES=eval evaluates the last (and MID_EVALS intermediate) checkpoints of the arms named in
# EVAL_ARMS again, without training. Stages write disjoint files, so two invocations with different STAGES may run at the same time.
# MAX_TOKENS / MAX_INPUT set the evaluation's reply and prompt budgets. A LoRA run's checkpoints are
# PEFT adapters: they are merged into their base with `spell export` before they are served.)
set -euo pipefail
cd "$(dirname "$0")/.."
MINUTES=${MINUTES:-30}
LIMIT=${LIMIT:-30}
N=${N:-4}
OUT=${OUT:-runs/miniature}
SEED=${SEED:-42}
MID_EVALS=${MID_EVALS:-2}
STEPS=${STEPS:-100000}
CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-5}
SPELL_ARM=${SPELL_ARM:-spell}
TABLE_ARMS=${TABLE_ARMS:-baseline $SPELL_ARM rlvr}
STAGES=${STAGES:-baseline spell rlvr table}
EVAL_ARMS=${EVAL_ARMS:-$SPELL_ARM rlvr}
MODEL=${MODEL:-assets/model}
MAX_TOKENS=${MAX_TOKENS:-96}
MAX_INPUT=${MAX_INPUT:-2048}
read -r -a SPELL_EXTRA <<<"${SPELL_ARGS:-}"
read -r -a RLVR_EXTRA <<<"${RLVR_ARGS:-}"
SPELL=(node bin/spell.js)
mkdir -p "$OUT"
has() { [[ " $STAGES " == *" $1 "* ]]; }

evaluate() { # evaluate NAME MODEL_DIR
  local name=$1 model=$2 log="$OUT/serve-$1.log" merged=""
  if [ -f "$model/adapter_config.json" ] && [ ! -f "$model/config.json" ]; then
    merged="$OUT/merged-$name"
    "${SPELL[@]}" export "$model" --merge --out "$merged" >/dev/null
    model=$merged
  fi
  "${SPELL[@]}" serve "$model" --port 0 >"$log" 2>&1 &
  local pid=$!
  local url="" served="" i
  for i in $(seq 1 600); do
    if grep -q "listening on" "$log"; then break; fi
    sleep 0.1
  done
  url=$(sed -n 's/^listening on \(\S*\) (model \(.*\))$/\1/p' "$log")
  served=$(sed -n 's/^listening on \(\S*\) (model \(.*\))$/\2/p' "$log")
  if [ -z "$url" ]; then echo "spell serve did not start for $name" >&2; kill "$pid"; exit 2; fi
  "${SPELL[@]}" eval --endpoint "$url/v1" --model "$served" --suite synthetic --limit "$LIMIT" \
    --n "$N" --max-tokens "$MAX_TOKENS" --max-input-len "$MAX_INPUT" --tokenizer "$model" --seed "$SEED" \
    --out "$OUT/eval-$name" --no-progress >"$OUT/eval-$name.log" 2>&1 || { kill "$pid"; exit 2; }
  kill "$pid"
  wait "$pid" 2>/dev/null || true
  if [ -n "$merged" ]; then rm -rf "$merged"; fi
}

# evaluate_midpoints ARM RUN_DIR: MID_EVALS evenly spaced intermediate checkpoints, as
# eval-<arm>-step-<N>, so results.html can draw held-out accuracy over training steps.
evaluate_midpoints() {
  local arm=$1 run=$2 steps=() i n
  mapfile -t steps < <(ls "$run/checkpoints/engine" | sed -n 's/^step-\([0-9]*\)$/\1/p' | sort -n)
  n=${#steps[@]}
  for ((i = 1; i <= MID_EVALS; i++)); do
    local idx=$((n * i / (MID_EVALS + 1)))
    if ((n > 1 && idx < n - 1)); then
      evaluate "$arm-step-$((10#${steps[$idx]}))" "$run/checkpoints/engine/step-${steps[$idx]}"
    fi
  done
}

last_checkpoint() { # last_checkpoint RUN_DIR -> engine checkpoint folder (a model folder)
  echo "$1/checkpoints/engine/$(tr -d '\n' <"$1/checkpoints/latest")"
}

if has baseline; then
  echo "[1/4] baseline evaluation"
  evaluate baseline "$MODEL"
fi

if has spell; then
  echo "[2/4] SPELL self-play ($SPELL_ARM) for $MINUTES min"
  rm -rf "${OUT:?}/$SPELL_ARM"
  "${SPELL[@]}" train --run-dir "$OUT/$SPELL_ARM" --steps "$STEPS" --seed "$SEED" --no-progress \
    "maxMinutes=$MINUTES" "checkpointEvery=$CHECKPOINT_EVERY" "engine.model=$MODEL" \
    ${SPELL_EXTRA[@]+"${SPELL_EXTRA[@]}"} >"$OUT/$SPELL_ARM.log" 2>&1
  evaluate "$SPELL_ARM" "$(last_checkpoint "$OUT/$SPELL_ARM")"
  evaluate_midpoints "$SPELL_ARM" "$OUT/$SPELL_ARM"
fi

if has rlvr; then
  echo "[3/4] static-RLVR control for $MINUTES min"
  "${SPELL[@]}" data labeled --out "$OUT/labeled.jsonl" --per-task 100 >/dev/null
  rm -rf "$OUT/rlvr"
  "${SPELL[@]}" train --run-dir "$OUT/rlvr" --steps "$STEPS" --seed "$SEED" --no-progress \
    mode=rlvr "data.labeledPaths=[\"$OUT/labeled.jsonl\"]" "maxMinutes=$MINUTES" \
    "checkpointEvery=$CHECKPOINT_EVERY" \
    "engine.model=$MODEL" ${RLVR_EXTRA[@]+"${RLVR_EXTRA[@]}"} >"$OUT/rlvr.log" 2>&1
  evaluate rlvr "$(last_checkpoint "$OUT/rlvr")"
  evaluate_midpoints rlvr "$OUT/rlvr"
fi

if has eval; then
  for arm in $EVAL_ARMS; do
    echo "evaluating $arm"
    evaluate "$arm" "$(last_checkpoint "$OUT/$arm")"
    evaluate_midpoints "$arm" "$OUT/$arm"
  done
fi

if has table; then
  echo "[4/4] table"
  read -r -a ARMS <<<"$TABLE_ARMS"
  "${SPELL[@]}" experiment table --out "$OUT" "${ARMS[@]}" >/dev/null
  for arm in "${ARMS[@]}"; do
    if [ -f "$OUT/$arm/metrics.jsonl" ]; then "${SPELL[@]}" report "$OUT/$arm" >/dev/null; fi
  done
  cat "$OUT/results.md"
fi
