"""Learned classifiers: TF-IDF and MiniLM logistic regressions over topics, MiniLM zero-shot."""
