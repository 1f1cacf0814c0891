"""Multi-label movie-genre classification from posters and plot overviews (25 IMDB genres).

One module per concern; pages and the CLI call into these, never into TensorFlow directly.

- Data: ``dataset`` (a package: finding a folder or zip, reading the CSV, the Id-hash splits,
  safe poster decoding and the poster cache), ``inputs`` (what a model reads: posters, overviews,
  their checks and the poster fingerprint).
- Settings: ``config`` (typed settings and where things live).
- Models: ``models`` (the registry of builders and recipes), ``encoders`` (pretrained sentence
  encoders), ``fusion`` (late fusions of installed models).
- Training: ``training``, ``pipelines`` (tf.data inputs), ``callbacks``, ``backup`` (resuming a run),
  ``distribute`` (multi-worker), ``runs`` (run folders, their processes and the models in use).
- Artifacts: ``artifacts`` (model folders), ``metadata`` (what an artifact records, checked on load),
  ``cards`` (model cards), ``export`` (SavedModel export), ``examples`` (the shipped demo films).
- Scoring: ``scoring`` (the one place a network is called for probabilities: single films,
  batches, splits, stored split scores), ``inference`` (GenrePredictor: every model behind one
  ``predict`` call), ``batch`` (predicting whole folders, streamed), ``split_scores`` (the scores
  stored beside each artifact).
- Judging: ``metrics`` (per-genre confusion, micro/macro F1, AP), ``baselines``, ``explain`` (a
  package: Grad-CAM, word occlusion, exact TF-IDF contributions, fusion shares), ``report`` (a
  package: the self-contained HTML report).
- Plumbing: ``fileio`` (atomic writes, tolerant reads), ``cli`` with ``cli_train``, ``cli_explain``
  and ``console`` (the command line and what it prints).
"""
