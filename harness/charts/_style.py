"""One colour, marker and line style per system, the same in every chart of a run.

The assignment is by position in the sorted roster of system names, so it depends only on
*which* systems a run holds, never on the order a chart meets them. Colours are the eight of
Okabe & Ito (2008), ordered so that the first systems get the most distinct hues (the yellow,
weak on white, comes last); markers (10) and line styles (4) change at other periods, so two
systems share colour *and* marker only beyond 40 systems.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Okabe & Ito (2008) colour-blind-safe palette: blue, orange, bluish green, vermilion,
#: reddish purple, sky blue, black, yellow.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "h", "<")
LINESTYLES = ("-", "--", "-.", ":")
#: Neutral colours for what is not a system (chance lines, zero lines, topic bars).
NEUTRAL = "#555555"
NEUTRAL_LIGHT = "#BBBBBB"


def roster(names: Iterable[str]) -> list[str]:
    """The sorted, de-duplicated system names that styles are assigned over.

    >>> roster(["tfidf-logreg", "keyword-rules", "tfidf-logreg"])
    ['keyword-rules', 'tfidf-logreg']
    """
    return sorted({str(n) for n in names})


def system_style(name: str, names: Iterable[str]) -> dict[str, Any]:
    """Matplotlib keyword arguments (``color``, ``marker``, ``linestyle``) for system ``name``.

    Parameters
    ----------
    name : str
        A system (classifier) name; it is added to ``names`` if missing.
    names : iterable of str
        Every system of the run (any order, duplicates allowed): the style of a name depends
        on this set, so pass the same roster to every chart of a run.

    Examples
    --------
    >>> names = ["tfidf-logreg", "keyword-rules", "pii-rules"]
    >>> system_style("keyword-rules", names)
    {'color': '#0072B2', 'marker': 'o', 'linestyle': '-'}
    >>> system_style("tfidf-logreg", names) == system_style("tfidf-logreg", reversed(names))
    True
    >>> many = [f"s{i:02d}" for i in range(12)]
    >>> len({(system_style(n, many)["color"], system_style(n, many)["marker"]) for n in many})
    12
    """
    r = roster([*names, name])
    i = r.index(str(name))
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": LINESTYLES[(i // len(PALETTE)) % len(LINESTYLES)]}


def system_styles(names: Iterable[str]) -> dict[str, dict[str, Any]]:
    """:func:`system_style` of every name of the roster, keyed by name.

    >>> sorted(system_styles(["b", "a"]))
    ['a', 'b']
    """
    r = roster(names)
    return {n: system_style(n, r) for n in r}
