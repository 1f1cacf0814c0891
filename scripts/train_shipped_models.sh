#!/usr/bin/env bash
# Retrains every shipped artifact with the project's own CLI, one after another
# (the machine has 2 cores; parallel runs would only slow each other down; about 75 minutes in all),
# then fits the late fusions on them and records the frequency baseline.
# Usage: scripts/train_shipped_models.sh [DATA_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DATA_DIR="${1:-${GENRE_DATA_DIR:-../shared/datasets/Multimodal_IMDB_dataset}}"
PYTHON="${PYTHON:-.venv/bin/python}"
# Networks first, then the fusions fitted from their artifacts.
for model in course_cnn course_lstm tfidf_logreg poster_cnn poster_effnet minilm_mlp minilm_tuned late_fusion text_ensemble multimodal_fusion; do
  "$PYTHON" -m genre_models train --model "$model" --data-dir "$DATA_DIR" --seed 42
done
"$PYTHON" -m genre_models baselines --data-dir "$DATA_DIR"
