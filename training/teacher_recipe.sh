#!/usr/bin/env bash
# The GPU recipe of training/teacher.py, as one script: (a) fine-tune all-mpnet-base-v2 (110M) as a
# 3-way NLI teacher on MIX, (b) write its soft labels for every distinct training pair of MIX and,
# with the `news` step, for unlabelled statement pairs across FNC-1/ARC train bodies (the corpus
# scan's candidates, training/news_pairs.py), (c) distil them into the MiniLM student (gold labels +
# soft targets; the news pairs on soft targets alone), (d) evaluate teacher and student side by side
# on every held-out set (training.evaluate, the scoring core).
#
#   training/teacher_recipe.sh                      # all five steps
#   STEPS="teacher soft" training/teacher_recipe.sh # some of them (a step whose output exists is skipped)
#   NEWS_PAIRS=runs/news-pairs.jsonl ...            # pairs built beforehand (on a CPU: ~10 min)
#
# Then calibrate and export the student like any checkpoint:
#   python -m training.export --checkpoint "$RUN/student/final" --calibration_data "$MIX" --version X.Y.Z
# Sized for one GPU: on an H200 the defaults ran in about 7 minutes (teacher 101 s at 1,528 pairs/s,
# student 38 s at 2,718 pairs/s, the rest loading data and evaluating); the teacher on a CPU would take
# days, so the soft labels it wrote are kept in training/soft_labels/ (training.teacher --from_array).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUN=${RUN:-runs/teacher}
MIX=${MIX:-"vitaminc=1,mnli=3,snli=1,snli_mnli_subset=1,cad=1,conjnli=0.5,mpe=0.3,fever=1,fnc1=1,arc=2,emergent=2,fnc1_unrelated=0.4,shuffled=0.5"}
STEPS=${STEPS:-"teacher news soft student evaluate"}
NEWS_PAIRS=${NEWS_PAIRS:-$RUN/news-pairs.jsonl}
NEWS_MAX_PAIRS=${NEWS_MAX_PAIRS:-60000}
DEVICE=${DEVICE:-cuda}
BF16=${BF16:-true}
TEACHER_BASE=${TEACHER_BASE:-}
STUDENT_BASE=${STUDENT_BASE:-models/contradict-minilm-l6-nli}
TEACHER_STEPS=${TEACHER_STEPS:-2400}
TEACHER_BATCH=${TEACHER_BATCH:-64}
TEACHER_LR=${TEACHER_LR:-3e-5}
TEACHER_MINUTES=${TEACHER_MINUTES:-}
STUDENT_STEPS=${STUDENT_STEPS:-800}
STUDENT_BATCH=${STUDENT_BATCH:-128}
STUDENT_LR=${STUDENT_LR:-5e-5}
STUDENT_MINUTES=${STUDENT_MINUTES:-}
TEMPERATURE=${TEMPERATURE:-2}
ALPHA=${ALPHA:-0.5}
SEED=${SEED:-45}
COMMON=(--dataset "$MIX" --weight_decay 0.01 --lr_scheduler_type linear --warmup_steps 0.06
  --train_sampling_strategy group_by_length --eval_strategy no --save_strategy no --logging_steps 100
  --max_eval_samples 3000 --per_device_eval_batch_size 256
  --bf16 "$BF16" --report_to none --disable_tqdm true --seed "$SEED" --dataloader_num_workers 2)
wants() { [[ " $STEPS " == *" $1 "* ]]; }
mkdir -p "$RUN"

if wants teacher && [ ! -d "$RUN/teacher/final" ]; then
  base=${TEACHER_BASE:-$("$PY" -c 'from training.teacher import mpnet_base_path; print(mpnet_base_path())')}
  "$PY" -m training.train --base_model "$base" --output_dir "$RUN/teacher" "${COMMON[@]}" \
    --max_steps "$TEACHER_STEPS" --per_device_train_batch_size "$TEACHER_BATCH" --learning_rate "$TEACHER_LR" \
    ${TEACHER_MINUTES:+--max_train_minutes "$TEACHER_MINUTES"} 2>&1 | tee "$RUN/teacher.log"
fi
if wants news && [ ! -f "$NEWS_PAIRS" ]; then
  "$PY" -m training.news_pairs --output "$NEWS_PAIRS" --max_pairs "$NEWS_MAX_PAIRS" 2>&1 | tee "$RUN/news.log"
fi
if wants soft && [ ! -f "$RUN/soft.jsonl" ]; then
  "$PY" -m training.teacher --model "$RUN/teacher/final" --dataset "$MIX" --output "$RUN/soft.jsonl" \
    --temperature "$TEMPERATURE" --device "$DEVICE" --batch_size 512 2>&1 | tee "$RUN/soft.log"
fi
if wants soft && [ -f "$NEWS_PAIRS" ] && [ ! -f "$RUN/soft-news.jsonl" ]; then
  "$PY" -m training.teacher --model "$RUN/teacher/final" --pairs "$NEWS_PAIRS" --output "$RUN/soft-news.jsonl" \
    --temperature "$TEMPERATURE" --device "$DEVICE" --batch_size 512 2>&1 | tee "$RUN/soft-news.log"
fi
NEWS=()
if [ -f "$RUN/soft-news.jsonl" ]; then
  NEWS=(--unlabelled_pairs "$NEWS_PAIRS")
fi
if wants student && [ ! -d "$RUN/student/final" ]; then
  soft="$RUN/soft.jsonl${NEWS:+,$RUN/soft-news.jsonl}"
  "$PY" -m training.train --base_model "$STUDENT_BASE" --output_dir "$RUN/student" "${COMMON[@]}" \
    --soft_labels "$soft" "${NEWS[@]}" --distill_alpha "$ALPHA" --distill_temperature "$TEMPERATURE" \
    --max_steps "$STUDENT_STEPS" --per_device_train_batch_size "$STUDENT_BATCH" --learning_rate "$STUDENT_LR" \
    ${STUDENT_MINUTES:+--max_train_minutes "$STUDENT_MINUTES"} 2>&1 | tee "$RUN/student.log"
fi
if wants evaluate; then
  for model in teacher student; do
    [ -f "$RUN/$model-eval.json" ] || "$PY" -m training.evaluate --model "$RUN/$model/final" --backend torch \
      --device "$DEVICE" --output "$RUN/$model-eval.json" 2>&1 | tee "$RUN/$model-eval.log"
  done
fi
