"""The grading sandbox's Matplotlib: every name exists, accepts anything and draws nothing.

Drawing is for the notebook, not for grading: cells that draw are tagged
``demo`` and do not run; a stray ``plt.plot(...)`` in a graded cell still
runs without error. ``Anything`` is what every call and attribute gives.
"""


class Anything:
    """Callable, indexable, iterable (as empty) and usable as a context manager."""

    def __call__(self, *args, **kwargs):
        return Anything()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return Anything()

    def __getitem__(self, key):
        return Anything()

    def __setitem__(self, key, value):
        pass

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


rcParams: dict = {}


def use(*args, **kwargs):
    return None


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return Anything()
