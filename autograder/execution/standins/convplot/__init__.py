"""The grading sandbox's ``convplot``: every drawing exists, accepts anything and draws nothing."""


def _draw_nothing(*args, **kwargs):
    return None


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _draw_nothing
