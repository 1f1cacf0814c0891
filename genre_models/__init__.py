"""Multi-label movie-genre classification from posters and plot overviews.

Modules, one concern each: config, data, models, training, runs, metrics,
inference, artifacts, cli.
"""
