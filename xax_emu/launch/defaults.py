"""Defaults `run` applies that a user expects: a wall-clock limit, so that a program that
hangs (or retries forever) ends on its own.  0 lifts it; an image's own [limits] or the
command line's --wall-seconds replace it."""
from __future__ import annotations

WALL_SECONDS = 600.0  # ten minutes: far past any tested run, short of a forgotten terminal
WALL_DEFAULT_NOTE = f" (run's default limit; --wall-seconds N sets another, --wall-seconds 0 none)"


def default_wall_seconds(given: float | None, meta: dict | None) -> tuple[float | None, bool]:
    """(the wall-clock limit to ask for, whether it is the default): the command line's if
    given (0: none), else the image's [limits] (None here: the image's applies), else WALL_SECONDS."""
    if given is not None:
        return given, False
    image_limit = ((meta or {}).get("limits") or {}).get("wall_seconds")
    if image_limit is not None:
        return None, False
    return WALL_SECONDS, True
