"""Rule-based classifiers: keyword/regex packs per policy version, PII patterns, profanity lists."""
