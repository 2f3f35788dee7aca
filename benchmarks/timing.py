"""The benchmark scripts' timing helper (run them from the repository root): the library's."""

from tgnlib.timing import best_of

__all__ = ["best_of"]
