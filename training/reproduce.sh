#!/usr/bin/env bash
# Reproduce the shipped model end to end: fetch VitaminC (bigbench sdist, into the user cache),
# fine-tune, calibrate, evaluate on the page-held-out test split, export to models/.
# On this project's 2-core CPU machines training takes about an hour; on a GPU a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUN=${RUN:-runs/minilm-vitaminc}
mkdir -p "$RUN"
"$PY" -m training.train --output_dir "$RUN" \
  --per_device_train_batch_size 32 --per_device_eval_batch_size 64 --num_train_epochs 2 \
  --learning_rate 6e-5 --warmup_steps 160 --weight_decay 0.01 --lr_scheduler_type linear \
  --train_sampling_strategy group_by_length --logging_steps 50 \
  --eval_strategy steps --eval_steps 400 --max_eval_samples 800 \
  --save_strategy steps --save_steps 200 --save_total_limit 2 \
  --seed 42 --report_to none --disable_tqdm true 2>&1 | tee "$RUN/train.log"
"$PY" -m training.export --checkpoint "$RUN/final" --output models/contradict-minilm-l6-nli "$@"
