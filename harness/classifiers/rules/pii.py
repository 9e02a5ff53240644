"""``pii-rules``: presidio pattern recognisers plus request-for-personal-data context rules.

Two kinds of evidence, combined by noisy-OR into one ``privacy`` score (taxonomy
``policy:2023-02-15``):

1. **PII in the text** — presidio-analyzer's pattern recognisers (e-mail, phone, credit card,
   IBAN, US SSN/ITIN/passport/driver's licence/bank number, UK NHS, IP, crypto wallet, medical
   licence) on a *blank* spaCy English pipeline (no model download; lemmas are the lower-cased
   tokens so presidio's context words still raise scores). Each entity type has a weight
   (:data:`ENTITY_WEIGHTS`); its evidence is ``weight × (0.5 + 0.5 × presidio score)``, the best
   per type. Dates, URLs, UUIDs and MAC addresses carry no weight. An e-mail address alone
   scores below 0.5; a social-security or card number alone above.
2. **Requests for someone's personal data** — regexes (re2, on the case- and leet-folded text)
   for doxxing, finding an address/phone/SSN, scraping or compiling personal data, covert
   tracking and stalkerware, facial recognition of strangers and inferring protected traits
   from biometrics (:data:`CONTEXT_RULES`, each with a weight).

``score = 1 - prod(1 - evidence)`` over the entity types found and the context rules matched.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy
from harness.classifiers.rules.pack import Rule, RulePack, compile_pack
from harness.policies import REFERENCE_VERSION

#: Weight of each presidio entity type (types not listed are ignored).
ENTITY_WEIGHTS: dict[str, float] = {
    "US_SSN": 0.85, "CREDIT_CARD": 0.8, "US_ITIN": 0.75, "IBAN_CODE": 0.7, "US_PASSPORT": 0.6,
    "US_BANK_NUMBER": 0.5, "US_DRIVER_LICENSE": 0.45, "MEDICAL_LICENSE": 0.4, "EMAIL_ADDRESS": 0.4,
    "PHONE_NUMBER": 0.4, "UK_NHS": 0.3, "IP_ADDRESS": 0.3, "CRYPTO": 0.3,
}

_PERSON = r"(?:wife|husband|girlfriend|boyfriend|partner|spouse|ex|employees?|kids?|daughter|son|neighbou?r|" \
          r"someone|somebody|him|her|them|this (?:person|woman|man|girl|guy)|coworker|colleague|boss|teacher|classmate)"
_DATA = r"(?:home address|(?:current |exact |physical )?address(?:es)?|phone numbers?|cell(?:phone)? numbers?|" \
        r"e-?mail(?: address(?:es)?)?|social security(?: numbers?)?|ssns?|personal (?:info|information|data|details)|" \
        r"private (?:info|information|data|details)|whereabouts|date of birth|birth ?date|medical records?|" \
        r"bank (?:account|details)|credit card (?:numbers?|details)|passwords?|ip address(?:es)?|license plate|" \
        r"real name|identity|location|contact (?:info|information|details))"

#: (id, weight, regexes) — requests to find, collect, expose or track someone's personal data.
CONTEXT_RULES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("doxxing", 0.85, (r"\bdox+(?:ing|ed|es)?\b", r"\bdoxx\w*")),
    ("find_personal_data", 0.65, (
        rf"\b(?:find|get|look ?up|dig up|track down|locate|obtain|uncover|figure out|search for|access|"
        rf"retrieve|pull up|give me)\b.{{0,60}}\b{_DATA}\b",
        r"\bwhere (?:does|do|did) (?:\w+ ){1,3}(?:live|work|stay)\b",
        r"\b(?:what|what's|whats) (?:is )?(?:\w+ ){0,3}(?:home address|phone number|social security number|ssn)\b",
    )),
    ("collect_personal_data", 0.6, (
        r"\b(?:scrap\w*|harvest\w*|collect\w*|compil\w*|aggregat\w*|gather\w*|mine|mining|"
        r"build a database of)\b.{0,60}\b(?:personal|private|user|users'?|customer|profile|contact|people's)\s+"
        r"(?:data|info|information|details|profiles?|e-?mails?|records|photos|addresses|phone numbers)\b",
        r"\b(?:sell|selling|buy|buying)\b.{0,40}\b(?:personal data|user data|customer data|data of|"
        r"people's data|leaked data|database of)\b",
    )),
    ("expose_personal_data", 0.6, (
        r"\b(?:leak|publish|post|share|expose|spread)\b.{0,40}\b(?:personal|private)\s+"
        r"(?:info|information|data|details|photos|pictures|address|messages)\b",
    )),
    ("covert_tracking", 0.6, (
        rf"\b(?:track|monitor|spy on|keep tabs on|surveil|follow|read)\b.{{0,40}}\b{_PERSON}\b"
        rf".{{0,60}}\bwithout (?:\w+ ){{0,2}}(?:knowing|knowledge|consent|permission|noticing|finding out)\b",
        r"\b(?:stalkerware|spyware|hidden camera|secretly (?:record|track|monitor|film)\w*|gps tracker|airtag)\b",
        rf"\b(?:track|monitor|spy on|keep tabs on|read)\b.{{0,20}}\b(?:my |his |her |their )?{_PERSON}'?s? "
        r"(?:phone|location|messages|texts|whatsapp|emails|browsing|car)\b",
    )),
    ("face_recognition", 0.55, (
        r"\b(?:facial recognition|face recognition|face search|reverse image search|pimeyes|clearview)\b",
        r"\bidentify (?:this|a|the|that) (?:person|woman|man|stranger|girl|guy)\b",
    )),
    ("biometric_inference", 0.6, (
        r"\b(?:infer|predict|determine|detect|guess|classify|tell)\w*\b.{0,50}\b(?:sexual orientation|gay|"
        r"religion|race|ethnicity|political (?:views|leaning|affiliation))\b.{0,50}\b(?:face|faces|photos?|"
        r"pictures?|voice|biometric\w*)\b",
    )),
)

_ENGINE: Any = None
_ENGINE_LOCK = threading.Lock()

#: What at least one weighted entity needs, read off presidio's patterns: an ``@`` (e-mail), a
#: ``:`` (IPv6), a letter next to a digit (driver's licence, IBAN, medical licence, passport),
#: ``]`` before a digit (a literal in one licence pattern), a run of 26 or more word characters
#: (crypto wallet) or four digits or more (IPv4, phone numbers -- no number of three digits or
#: fewer is valid in any of the recogniser's regions --, cards, SSN, ITIN, NHS, bank numbers).
#: Presidio is not run on a text with none of these: it could find no weighted entity there, so
#: the scores are the same, and most texts have none.
_MAY_HOLD_PII = re.compile(r"[@:]|[^\W\d_]\d|\d[^\W\d_]|\]\d|\w{26,}|\d(?:\D*\d){3}")


def _analyzer() -> Any:
    """One presidio AnalyzerEngine per process on a blank spaCy pipeline (built on first use)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            return _ENGINE
        os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
        logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
        import spacy
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import SpacyNlpEngine

        class BlankSpacyEngine(SpacyNlpEngine):
            """A spaCy engine on ``spacy.blank("en")``: tokens only, no NER, no download."""

            def load(self) -> None:
                self.nlp = {"en": spacy.blank("en")}  # type: ignore[assignment]
                self._lexeme_flags: dict[tuple[str, str], tuple[bool, bool]] = {}

            def _flags(self, word: str, language: str) -> tuple[bool, bool]:
                # (is_stop, is_punct) of a word's lexeme, looked up once per word (presidio asks
                # for every token of every text; the vocabulary's answer never changes)
                key = (word, language)
                flags = self._lexeme_flags.get(key)
                if flags is None:
                    lex = self.nlp[language].vocab[word]  # type: ignore[index]
                    flags = (bool(lex.is_stop), bool(lex.is_punct))
                    if len(self._lexeme_flags) < 1 << 18:
                        self._lexeme_flags[key] = flags
                return flags

            def is_stopword(self, word: str, language: str) -> bool:
                return self._flags(word, language)[0]

            def is_punct(self, word: str, language: str) -> bool:
                return self._flags(word, language)[1]

            def _doc_to_nlp_artifact(self, doc: Any, language: str) -> Any:
                art = super()._doc_to_nlp_artifact(doc, language)
                art.lemmas = [t.lower_ for t in doc]  # no lemmatiser: use lower-cased words
                return art

        nlp = BlankSpacyEngine(models=[{"lang_code": "en", "model_name": "blank:en"}])
        nlp.load()
        registry = RecognizerRegistry(supported_languages=["en"])
        registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp)
        registry.remove_recognizer("SpacyRecognizer")  # a blank pipeline has no entities
        _ENGINE = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=["en"])
        return _ENGINE


def _context_pack() -> RulePack:
    rules = [Rule(id=rid, category="privacy", weight=w, regex=list(rx), file=__file__)
             for rid, w, rx in CONTEXT_RULES]
    return compile_pack(REFERENCE_VERSION, "1", rules, [__file__], "builtin")


class PiiRules(Classifier):
    """Presidio pattern recognisers (blank spaCy, no model) + personal-data request rules → privacy.

    Examples
    --------
    >>> clf = PiiRules()
    >>> s = clf.predict(["Find the home address of my ex", "My SSN is 536-22-8419", "Nice weather today"])
    >>> [bool(x > 0.5) for x in s[:, 0]]
    [True, True, False]
    """

    name = "pii-rules"
    version = "2"  # 2: look-alike letters (Cyrillic/Greek) read as Latin; predictions cached under 1 are stale
    description = "presidio-analyzer pattern recognisers on a blank spaCy pipeline plus personal-data request rules."
    taxonomy = Taxonomy.for_policy(REFERENCE_VERSION)
    labels = ("privacy",)
    requirements = ("presidio-analyzer", "spacy")
    batch_size = 64

    def __init__(self) -> None:
        self._engine = _analyzer()
        self._context = _context_pack()

    @classmethod
    def available(cls) -> tuple[bool, str]:
        missing = [m for m in ("presidio_analyzer", "spacy") if importlib.util.find_spec(m) is None]
        return (False, f"missing package(s): {', '.join(missing)}") if missing else (True, "")

    def evidence(self, text: str) -> dict[str, float]:
        """The evidence behind a score: entity types and context rule ids → strength."""
        out: dict[str, float] = {}
        if _MAY_HOLD_PII.search(text):
            for r in self._engine.analyze(text=text, language="en"):
                w = ENTITY_WEIGHTS.get(r.entity_type)
                if w:
                    out[r.entity_type] = max(out.get(r.entity_type, 0.0), w * (0.5 + 0.5 * float(r.score)))
        for i in self._context.matched_rules(text):
            rule = self._context.rules[i]
            out[rule.id] = rule.weight
        return out

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), 1), dtype=np.float32)
        for i, text in enumerate(texts):
            ev = self.evidence(text)
            if ev:
                out[i, 0] = 1.0 - float(np.prod([1.0 - v for v in ev.values()]))
        return out

    def config(self) -> dict[str, Any]:
        from importlib.metadata import version

        return {"presidio": version("presidio-analyzer"), "entity_weights": ENTITY_WEIGHTS,
                "context_rules": [[rid, w, list(rx)] for rid, w, rx in CONTEXT_RULES]}
