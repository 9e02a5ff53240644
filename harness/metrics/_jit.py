"""The numba decorator the metric kernels use.

Kernels are compiled with ``cache=True`` so that a second process loads machine code instead
of compiling it. numba looks for a writable cache folder in this order: ``$NUMBA_CACHE_DIR``,
the ``__pycache__`` next to this package, the user's cache folder. When none is writable
(a read-only install without a user cache) numba refuses to decorate a function with
``cache=True``; :func:`jit` then compiles without a cache instead of failing the import.
Nothing global is set here: the thread count is numba's (``NUMBA_NUM_THREADS``).
"""

from __future__ import annotations

import types

import numba


def jit(*, parallel: bool = False, inline: str = "never", **options):
    """``numba.njit(cache=True, ...)`` that falls back to no cache when it cannot write one."""

    def decorate(func):
        try:
            return numba.njit(cache=True, parallel=parallel, inline=inline, **options)(func)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, parallel=parallel, inline=inline, **options)(func)

    return decorate


def serial_and_parallel(func):
    """Two cached dispatchers of one kernel: ``(serial, parallel)``.

    In the serial one ``prange`` is a plain ``range``: small inputs then pay no parallel
    launch (waking worker threads costs milliseconds on a busy 2-core machine). The serial
    copy gets its own name, so that numba caches the two apart.
    """
    clone = types.FunctionType(
        func.__code__, func.__globals__, func.__name__ + "_serial", func.__defaults__, func.__closure__
    )
    clone.__qualname__ = func.__qualname__ + "_serial"
    clone.__module__ = func.__module__
    clone.__doc__ = func.__doc__
    return jit()(clone), jit(parallel=True)(func)


def inline(func):
    """A helper compiled into its callers (never called from Python)."""
    return numba.njit(inline="always")(func)


def n_threads() -> int:
    """The number of threads numba's parallel loops use now."""
    return int(numba.get_num_threads())
