#!/usr/bin/env bash
# What runs on a lent GPU machine, as the last call of a kit's plan (training/device_kit.py writes
# the kit and .kit/PLAN.md): install the carried wheels, rebuild the teacher's base, the student and
# the data, then training/teacher_recipe.sh on the materialised mixture, each result sent back as
# soon as it exists (the call's 10 minutes may run out; what is under $OUT by then still returns):
#   1. the teacher fine-tuned on the mixture, its soft labels for every distinct training pair (and
#      for the unlabelled news pairs, when the kit carries them)       -> $OUT/results.tar.xz
#   2. the teacher evaluated on every held-out set + behaviour suite   -> the same archive
#   3. the student distilled from them                                  -> $OUT/student.safetensors.*
#   4. the student evaluated                                            -> the archive
# Sizes default to about 8-9 minutes on one H200 (teacher 1,528 pairs/s at batch 64, student 2,718
# pairs/s at batch 128, measured at stop 16); every one can be overridden from the environment.
#
#   DRY=1 DEVICE=cpu BF16=false TEACHER_STEPS=2 STUDENT_STEPS=2 ... bash training/device_session.sh
# runs the same sequence on a CPU at toy sizes (how it was checked before any GPU saw it).
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
PY=${PY:-python3}
KIT=${KIT:-.kit}
WORK=${WORK:-/tmp/contradict-kit}
RUN=${RUN:-$WORK/run}
OUT=${OUT:-$WORK/out}
export DEVICE=${DEVICE:-cuda} BF16=${BF16:-true}
export TEACHER_STEPS=${TEACHER_STEPS:-3000} TEACHER_BATCH=${TEACHER_BATCH:-64} TEACHER_MINUTES=${TEACHER_MINUTES:-2.5}
export STUDENT_STEPS=${STUDENT_STEPS:-1500} STUDENT_BATCH=${STUDENT_BATCH:-128} STUDENT_MINUTES=${STUDENT_MINUTES:-1.5}
export STUDENT_LR=${STUDENT_LR:-3e-5} ALPHA=${ALPHA:-0.7} SEED=${SEED:-60}

if [ -z "${DRY:-}" ]; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
    $(find "$KIT" -name '*.whl')
  export PYTHONPATH=/tmp/site:$PWD
else
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
fi
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
[ -d "$WORK/data" ] || "$PY" -m training.device_kit unpack --kit "$KIT" --output "$WORK"
mkdir -p "$RUN" "$OUT"
send() { "$PY" -m training.device_kit send --run "$RUN" --output "$OUT"; }
evaluate() {  # evaluate MODEL NAME
  [ -f "$RUN/$2-eval.json" ] || "$PY" -m training.evaluate --model "$1" --data_root "$WORK/data/eval" \
    --sets "${SETS:-all}" --claims false --backend torch --device "$DEVICE" --output "$RUN/$2-eval.json" 2>&1 | tee "$RUN/$2-eval.log"
}
NEWS=$WORK/data/news-pairs.jsonl
MIX=$("$PY" -m training.device_kit spec --data "$WORK/data")
recipe() {
  PY="$PY" RUN="$RUN" MIX="$MIX" TEACHER_BASE="$WORK/teacher" STUDENT_BASE="$WORK/student" \
    NEWS_PAIRS="$NEWS" STEPS="$1" bash training/teacher_recipe.sh
}

recipe "teacher soft"
send
evaluate "$RUN/teacher/final" teacher
send
recipe "student"
send
evaluate "$RUN/student/final" student
send
ls -la "$OUT"
