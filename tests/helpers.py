"""Small test doubles shared by tests (import as ``from tests.helpers import ...``)."""

from __future__ import annotations

import numpy as np

from harness.classifiers.base import Classifier, Taxonomy


class KeywordTopics(Classifier):
    """A deterministic topic-level classifier: 1.0 for a topic when its keyword is in the text."""

    name = "kw-topics"
    version = "1"
    taxonomy = Taxonomy.topics()

    def __init__(self, keywords: dict[str, str] | None = None, name: str | None = None):
        self.keywords = keywords or {"dating_apps": "dating", "hate": "hate", "malware": "malware",
                                     "tailored_financial_advice": "stock", "self_harm": "hurt"}
        self.labels = list(self.keywords)
        if name:
            self.name = name

    def predict(self, texts):
        out = np.zeros((len(texts), len(self.labels)), np.float32)
        for i, t in enumerate(texts):
            low = t.lower()
            for j, kw in enumerate(self.keywords.values()):
                out[i, j] = 0.9 if kw in low else 0.1
        return out

    def config(self):
        return {"keywords": self.keywords}
