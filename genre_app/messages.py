"""Messages around actions that change shared state: a read-only deployment's notice, a refusal or a file-system
failure shown as an error, and a success that survives the rerun after it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from genre_models import promotions, runs
from genre_models.config import read_only_reason


def read_only_notice(actions: str) -> str | None:
    """Say that some actions are turned off when the deployment is read-only; return the reason (None
    when visitors may change shared state)."""
    reason = read_only_reason()
    if reason:
        st.info(f"{actions} is turned off: {reason}.")
    return reason


def warn_if_promotions_damaged() -> None:
    """Show why runs/promoted.json is ignored, when it is damaged (the shipped models are used)."""
    problem = promotions.promotions_problem()
    if problem:
        st.warning(problem)


@contextmanager
def errors_shown(container=None, toast: bool = False) -> Iterator[None]:
    """Run an action that changes shared state, showing a refusal or a file-system failure as an
    error message instead of a traceback (the rest of the block is skipped). ``container``: where
    the message goes (somewhere the user is looking, not a folded expander); ``toast``: also pop it up."""
    try:
        yield
    except (runs.RunRefused, OSError) as error:
        if isinstance(error, runs.RunRefused):
            message = str(error)
        else:
            message = (f"The action failed: {error.strerror or error}"
                       + (f" ({error.filename})" if error.filename else "") + ".")
        (container or st).error(message)
        if toast:
            st.toast(message, icon=":material/error:")


# Session key of a success message kept across the rerun that follows an action (see announce).
NOTICE_KEY = "genre-app-notice"


def announce(message: str, rerun: bool = True) -> None:
    """Confirm that an action succeeded with a toast that survives the page's rerun (and a success line
    at the top of the page after it), then rerun so every table shows the change."""
    st.session_state[NOTICE_KEY] = message
    if rerun:
        st.rerun()
    show_announcement()


def show_announcement() -> None:
    """Show (once) the success message an action left before its rerun: a toast and a success line."""
    message = st.session_state.pop(NOTICE_KEY, None)
    if message:
        st.toast(message, icon=":material/check_circle:")
        st.success(message)
