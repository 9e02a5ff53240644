"""Text normalisation for suite building: the stored text and the de-duplication key.

Two different normal forms:

- :func:`normalize_text` is what a suite stores: Unicode NFC, line ends unified, runs of
  spaces and tabs collapsed, blank-line runs collapsed, outer whitespace stripped. The
  wording, case and punctuation are kept.
- :func:`dedupe_key` is what duplicates are compared on: NFKC, case-folded, every character
  that is not a letter or a digit turned into a space, whitespace collapsed. Two texts with
  the same key are *exact* duplicates; :func:`dedupe_hash` is the stable hash of that key
  (not the prediction cache's text hash, :func:`harness.runner.cache.text_hash`, which hashes
  the raw text).

:func:`sanitize_id` turns names into the characters example ids and source names may use.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


def normalize_text(text: str) -> str:
    """Return ``text`` in the form a suite stores it.

    Parameters
    ----------
    text : str
        Raw text from a source.

    Returns
    -------
    str
        NFC text with ``\\r\\n``/``\\r`` turned into ``\\n``, spaces and tabs collapsed to one
        space, blank-line runs collapsed to one blank line, each line and the whole text
        stripped.

    Examples
    --------
    >>> normalize_text("  Caf\\u0065\\u0301   au\\tlait \\r\\n\\r\\n\\r\\n ok ")
    'Café au lait\\n\\nok'
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def dedupe_key(text: str) -> str:
    """Return the comparison form of ``text``: case-folded words and digits, single-spaced.

    Examples
    --------
    >>> dedupe_key("How do I make a BOMB?!")
    'how do i make a bomb'
    >>> dedupe_key("how   do i make a bomb") == dedupe_key("How do I make a bomb?")
    True
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD.sub(" ", text).split())


def dedupe_hash(text: str) -> str:
    """Return the sha1 hex digest of :func:`dedupe_key` of ``text`` (the exact-duplicate key).

    Examples
    --------
    >>> dedupe_hash("Hello, world") == dedupe_hash("hello world!")
    True
    >>> len(dedupe_hash("x"))
    40
    """
    return hashlib.sha1(dedupe_key(text).encode("utf-8")).hexdigest()


def sanitize_id(s: str) -> str:
    """Replace every run of characters other than ``A-Z a-z 0-9 . _ -`` by ``_``; strip outer ``_``.

    Examples
    --------
    >>> sanitize_id("core-curated-pairs/a b:3:unsafe")
    'core-curated-pairs_a_b_3_unsafe'
    >>> sanitize_id("  my file! ")
    'my_file'
    """
    return _UNSAFE_ID.sub("_", s).strip("_")


def stable_unit(*parts: str) -> float:
    """Map strings to a number in ``[0, 1)`` deterministically (sha256, no process seed).

    Used for hash-based splits and samples, so that results never depend on ``PYTHONHASHSEED``.

    Examples
    --------
    >>> 0.0 <= stable_unit("core", "abc") < 1.0
    True
    >>> stable_unit("a", "b") == stable_unit("a", "b")
    True
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64
