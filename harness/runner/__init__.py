"""The runner: orchestration, prediction cache, executors."""

from harness.runner.cache import PredictionCache, classifier_key, text_hash
from harness.runner.pipeline import RunOptions, RunResult, run_benchmark
from harness.runner.predict import Predictions, run_classifier

__all__ = ["PredictionCache", "Predictions", "RunOptions", "RunResult", "classifier_key",
           "run_benchmark", "run_classifier", "text_hash"]
