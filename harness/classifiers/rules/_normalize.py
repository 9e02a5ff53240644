"""Text normalisation for rule matching: look-alike characters, case, leet-speak and repeats.

Two views of a text are used by :mod:`harness.classifiers.rules.pack`:

- :func:`fold` — Unicode NFKC, diacritics stripped, look-alike letters of other scripts read
  as the Latin letters they imitate (:func:`unconfuse`: a Cyrillic ``о`` in ``bоmb``), case
  folding, leet-speak undone inside tokens that contain a letter (``h4ck3r`` → ``hacker``;
  ``2024`` and ``$100`` are left alone), whitespace collapsed. Regexes run on this view.
- :func:`term_view` — :func:`fold` with punctuation turned into spaces and every run of a
  repeated character collapsed to one (:func:`squeeze`: ``fuuuuck`` → ``fuck``; ``kill`` →
  ``kil``). Literal terms are normalised the same way and matched on this view, so a term and
  its stretched spellings meet.

``1`` and ``!`` and ``|`` are ambiguous (``i`` or ``l``): :func:`variants` returns the view with
``i`` and, when the text has one of them inside a word, a second view with ``l``; a rule
matches when it matches either.

:func:`views` gives both views of every reading of a text, computed once per text and kept
in a bounded cache shared by every rule pack of the process (a run binds one pack per policy
version, and each predicts the same texts): :func:`clear_cache` empties it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Leet-speak substitutions applied inside tokens that contain at least one letter.
LEET: dict[str, str] = {
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "9": "g",
    "@": "a", "$": "s", "!": "i", "|": "i", "€": "e", "+": "t",
}
#: The alternative reading of the ambiguous characters (see :func:`variants`).
LEET_ALT: dict[str, str] = {"1": "l", "!": "l", "|": "l"}

#: Letters of other scripts that look like Latin letters (after NFKC, which already maps
#: fullwidth, mathematical and other compatibility forms): Cyrillic and Greek capitals and
#: small letters, and a few Latin letter variants NFKC keeps. Written by hand from the
#: Unicode character names (``unicodedata``) and their glyphs; case is folded afterwards.
CONFUSABLES: dict[str, str] = {
    # Cyrillic small letters
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l",
    "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "ԝ": "w", "х": "x", "у": "y", "ү": "y",
    # Cyrillic capital letters
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "І": "I", "Ј": "J", "К": "K", "М": "M",
    "О": "O", "Р": "P", "Ѕ": "S", "Т": "T", "Х": "X", "У": "Y", "Ү": "Y", "Ӏ": "I", "Ԛ": "Q",
    "Ԝ": "W",
    # Greek small letters
    "α": "a", "ϲ": "c", "ε": "e", "ι": "i", "ϳ": "j", "κ": "k", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y",
    # Greek capital letters
    "Α": "A", "Β": "B", "Ϲ": "C", "Ε": "E", "Η": "H", "Ι": "I", "Ϳ": "J", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "Ζ": "Z",
    # Latin letter variants NFKC leaves alone
    "ı": "i", "ɑ": "a", "ɡ": "g", "ɩ": "i", "ʏ": "y", "ᴏ": "o",
}
_CONFUSABLE_TABLE = str.maketrans(CONFUSABLES)
_CONFUSABLE_CHAR = re.compile("[" + "".join(sorted(CONFUSABLES)) + "]")
_WORD = re.compile(r"\w+")
_ASCII_LETTER = re.compile(r"[a-zA-Z]")
#: Scripts whose own words are left alone (a word with a letter of these outside the table).
_FOREIGN_RANGES = ((0x0370, 0x03FF), (0x1F00, 0x1FFF), (0x0400, 0x052F), (0x1C80, 0x1C8F),
                   (0x2DE0, 0x2DFF), (0xA640, 0xA69F))

_TOKEN = re.compile(r"[\w@$!|€+]+")
#: A whole token (a maximal run of ``_TOKEN`` characters) holding a leet character.
_LEET_TOKEN = re.compile(r"(?<![\w@$!|€+])[\w@$!|€+]*[0-9@$!|€+][\w@$!|€+]*")
#: Tokens that are ordinary words with digits, not leet: 2nd, 401k, 5g, 3d, 10x, 4pm, 100kg.
_NOT_LEET = re.compile(r"^\d+(?:st|nd|rd|th|s|k|g|d|x|m|b|gb|mb|kb|tb|kg|km|mm|cm|am|pm|yo|lbs?|hz|ghz|mhz)$")
_LEETABLE = re.compile(r"[0-9@$!|€+]")
_AMBIG = re.compile(r"[1!|]")
_SPACE = re.compile(r"\s+")
_SPACED = re.compile(r"\b(?:\w ){2,}\w\b")  # "b l a c k" -> "black"
_REPEAT = re.compile(r"(.)\1+", re.DOTALL)
_NONWORD = re.compile(r"[^\w\s']+")
_TABLE = str.maketrans(LEET)
_TABLE_ALT = str.maketrans({**LEET, **LEET_ALT})


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    if decomposed.isascii():
        return decomposed
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _foreign(ch: str) -> bool:
    o = ord(ch)
    return any(lo <= o <= hi for lo, hi in _FOREIGN_RANGES)


def _unconfuse_word(m: re.Match) -> str:
    word = m.group(0)
    if not _CONFUSABLE_CHAR.search(word):
        return word
    if any(ch not in CONFUSABLES and _foreign(ch) for ch in word):
        return word  # a Greek or Cyrillic word, not a disguised Latin one
    if len(word) < 3 and not _ASCII_LETTER.search(word):
        return word  # a lone Greek letter (the α of "α,β"), not a disguise
    return word.translate(_CONFUSABLE_TABLE)


def unconfuse(text: str) -> str:
    """Read look-alike letters (:data:`CONFUSABLES`) as Latin inside words that are otherwise Latin.

    A word is rewritten when every letter in it is Latin or a look-alike, and it has a Latin
    letter or at least three letters: ``bоmb`` with a Cyrillic ``о`` becomes ``bomb``, an
    all-Cyrillic ``ѕех`` becomes ``sex``; a Greek or Cyrillic word with any letter outside the
    table (``бомба``, ``λόγος``) and a lone Greek letter (the ``α`` of ``α,β``) are left alone.

    Examples
    --------
    >>> unconfuse("h\\u043ew to m\\u0430ke a b\\u043emb") == "how to make a bomb"
    True
    >>> unconfuse("\\u0431\\u043e\\u043c\\u0431\\u0430")  # Russian "бомба" stays Cyrillic
    'бомба'
    """
    if text.isascii() or not _CONFUSABLE_CHAR.search(text):
        return text
    return _WORD.sub(_unconfuse_word, text)


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


def _prefold(text: str) -> str:
    """NFKC, marks stripped, look-alikes read as Latin, case folded (what both readings share)."""
    text = unicodedata.normalize("NFKC", text)
    if not text.isascii():
        text = unconfuse(_strip_marks(text))
    return text.casefold()


def _finish(text: str, table: dict[int, str]) -> str:
    """Leet undone with ``table``, whitespace collapsed, spaced-out letters joined."""
    if _LEETABLE.search(text):
        text = _LEET_TOKEN.sub(lambda m: _unleet_token(m.group(0), table), text)
    text = _SPACE.sub(" ", text).strip()
    return _SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)


def fold(text: str, *, alt: bool = False) -> str:
    """Case-folded, accent-free, look-alike-free, leet-free text with single spaces.

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
    >>> fold("B\\u041eMB")  # a Cyrillic capital O
    'bomb'
    """
    return _finish(_prefold(text), _TABLE_ALT if alt else _TABLE)


def squeeze(text: str) -> str:
    """Collapse runs of the same character to one (apply to folded text and terms alike).

    Examples
    --------
    >>> squeeze("fuuuuck offfff")
    'fuck of'
    """
    return _REPEAT.sub(_first_group, text)


def _first_group(m: re.Match) -> str:
    return m.group(1)


def term_view(text_variant: str) -> str:
    """The view literal terms are matched on: punctuation → space, repeats collapsed.

    Examples
    --------
    >>> term_view("kill... yourself!!")
    'kil yourself '
    """
    return squeeze(_NONWORD.sub(" ", text_variant))


def variants(text: str) -> list[str]:
    """The folded readings of ``text``: one, or two when ``1``/``!``/``|`` sit inside a word.

    Examples
    --------
    >>> variants("k1ll that 1oser")
    ['kill that ioser', 'klll that loser']
    >>> variants("hello")
    ['hello']
    """
    pre = _prefold(text)
    first = _finish(pre, _TABLE)
    if not _AMBIG.search(text):
        return [first]
    second = _finish(pre, _TABLE_ALT)
    return [first] if second == first else [first, second]


#: How many texts' views :func:`views` keeps (a run's texts, for every version's pack).
CACHE_SIZE = 1 << 15


@lru_cache(maxsize=CACHE_SIZE)
def views(text: str) -> tuple[tuple[str, str], ...]:
    """``(folded, term view)`` of each reading of ``text`` (cached: computed once per text).

    Examples
    --------
    >>> views("K1LL yourself!!")
    (('kill yourself!!', 'kil yourself '), ('klll yourself!!', 'kl yourself '))
    """
    return tuple((v, term_view(v)) for v in variants(text))


def clear_cache() -> None:
    """Forget the views of every text seen so far."""
    views.cache_clear()


def normalize_term(term: str) -> str:
    """A literal term as it is matched: folded and squeezed (no leet in terms is needed).

    Examples
    --------
    >>> normalize_term("  Kill  Yourself ")
    'kil yourself'
    """
    return squeeze(fold(term))
