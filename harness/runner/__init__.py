"""The runner: predictions of classifier bindings over a suite (cached), options, executors."""

from harness.options import DEFAULT_SPLIT, DEFAULT_SUITE, RunOptions
from harness.runner.cache import PredictionCache, classifier_key, text_hash
from harness.runner.pipeline import Binding, Predicted, predict_all
from harness.runner.predict import Predictions, run_classifier

__all__ = ["DEFAULT_SPLIT", "DEFAULT_SUITE", "Binding", "Predicted", "PredictionCache", "Predictions", "RunOptions",
           "classifier_key", "predict_all", "run_classifier", "text_hash"]
