"""Streamlit glue for the app: cached resources and figures; all ML lives in genre_models."""
