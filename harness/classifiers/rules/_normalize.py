"""Text normalisation for rule matching: case folding, leet-speak and repeated characters.

Two views of a text are used by :mod:`harness.classifiers.rules.pack`:

- :func:`fold` — Unicode NFKC, case folding, diacritics stripped, leet-speak undone inside
  tokens that contain a letter (``h4ck3r`` → ``hacker``; ``2024`` and ``$100`` are left
  alone), whitespace collapsed. Regexes run on this view.
- :func:`squeeze` — :func:`fold` with every run of a repeated character collapsed to one
  (``fuuuuck`` → ``fuck``; ``kill`` → ``kil``). Literal terms are squeezed the same way and
  matched on this view, so a term and its stretched spellings meet.

``1`` and ``!`` and ``|`` are ambiguous (``i`` or ``l``): :func:`variants` returns the view with
``i`` and, when the text has one of them inside a word, a second view with ``l``; a rule
matches when it matches either.
"""

from __future__ import annotations

import re
import unicodedata

#: Leet-speak substitutions applied inside tokens that contain at least one letter.
LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "€": "e", "+": "t",
}
#: The alternative reading of the ambiguous characters (see :func:`variants`).
LEET_ALT: dict[str, str] = {"1": "l", "!": "l", "|": "l"}

_TOKEN = re.compile(r"[\w@$!|€+]+")
#: Tokens that are ordinary words with digits, not leet: 2nd, 401k, 5g, 3d, 10x, 4pm, 100kg.
_NOT_LEET = re.compile(r"^\d+(?:st|nd|rd|th|s|k|g|d|x|m|b|gb|mb|kb|tb|kg|km|mm|cm|am|pm|yo|lbs?|hz|ghz|mhz)$")
_LEETABLE = re.compile(r"[0-9@$!|€+]")
_AMBIG = re.compile(r"[1!|]")
_SPACE = re.compile(r"\s+")
_SPACED = re.compile(r"\b(?:\w ){2,}\w\b")  # "b l a c k" -> "black"
_REPEAT = re.compile(r"(.)\1+", re.DOTALL)
_TABLE = str.maketrans(LEET)
_TABLE_ALT = str.maketrans({**LEET, **LEET_ALT})


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _unleet_token(tok: str, table: dict[int, str]) -> str:
    """Undo leet inside a word-like token that mixes letters with leet characters.

    A token is read as leet when it has a letter and no fewer letters than leet characters
    (``h4ck3r``, ``sh1t``, ``@ss``, ``t0``), and is not an ordinary word with digits (``2nd``,
    ``401k``, ``5g``, ``3d``); trailing ``!``/``|`` are punctuation and kept.
    """
    core = tok.rstrip("!|")
    if not _LEETABLE.search(core):
        return tok
    letters = sum(ch.isalpha() for ch in core)
    leet = len(_LEETABLE.findall(core))
    if letters < 1 or letters < leet or _NOT_LEET.match(core):
        return tok
    return core.translate(table) + tok[len(core):]


def fold(text: str, *, alt: bool = False) -> str:
    """Case-folded, accent-free, leet-free text with single spaces.

    Examples
    --------
    >>> fold("H0w do I h4ck my EX's 1nstagram?!")
    "how do i hack my ex's instagram?!"
    >>> fold("Costs $100 in 2024, my 401k and 5G")
    'costs $100 in 2024, my 401k and 5g'
    >>> fold("most b l a c k people")
    'most black people'
    >>> fold("1oser", alt=True)
    'loser'
    """
    table = _TABLE_ALT if alt else _TABLE
    text = _strip_marks(unicodedata.normalize("NFKC", text)).casefold()
    text = _TOKEN.sub(lambda m: _unleet_token(m.group(0), table), text)
    text = _SPACE.sub(" ", text).strip()
    return _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)


def squeeze(text: str) -> str:
    """Collapse runs of the same character to one (apply to folded text and terms alike).

    Examples
    --------
    >>> squeeze("fuuuuck offfff")
    'fuck of'
    """
    return _REPEAT.sub(r"\1", text)


def variants(text: str) -> list[str]:
    """The folded readings of ``text``: one, or two when ``1``/``!``/``|`` sit inside a word.

    Examples
    --------
    >>> variants("k1ll that 1oser")
    ['kill that ioser', 'klll that loser']
    >>> variants("hello")
    ['hello']
    """
    first = fold(text)
    if not _AMBIG.search(text):
        return [first]
    second = fold(text, alt=True)
    return [first] if second == first else [first, second]


def normalize_term(term: str) -> str:
    """A literal term as it is matched: folded and squeezed (no leet in terms is needed).

    Examples
    --------
    >>> normalize_term("  Kill  Yourself ")
    'kil yourself'
    """
    return squeeze(fold(term))
