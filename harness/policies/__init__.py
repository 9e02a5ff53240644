"""Policy versions as data: topics, verdicts, diffs, crosswalks and projections.

A policy version (``datasets/policies/<version>.yaml``) gives every topic of the shared
vocabulary (``datasets/policies/topics.yaml``) a verdict and a category. From that, one suite
yields a ground truth per version (:func:`project_truth`), and a classifier's scores over its
own labels become scores per category of any version (:func:`label_category_matrix`,
:func:`project_scores`).

Examples
--------
>>> from harness.policies import REFERENCE_VERSION, diff, load_policy
>>> load_policy(REFERENCE_VERSION).verdict("mlm").verdict
'disallowed'
>>> "mlm" in diff("2023-02-15", "2024-01-10").newly_allowed()
True
"""

from harness.policies.crosswalk import Crosswalk, CrosswalkLabel, list_crosswalks, load_crosswalk
from harness.policies.diff import PolicyDiff, TopicChange, VerdictRef, diff
from harness.policies.load import list_versions, load_policy, parse_policy
from harness.policies.model import (
    CATEGORY_KEYS,
    REFERENCE_VERSION,
    RESTRICTED_AS,
    VERDICTS,
    Category,
    Policy,
    Provenance,
    RestrictedAs,
    Topic,
    TopicVerdict,
    check_restricted_as,
    is_violation,
)
from harness.policies.projection import (
    imitation_mask,
    label_category_matrix,
    project_scores,
    project_truth,
    topic_category_matrix,
)
from harness.policies.scaffold import policy_summary, scaffold_policy, validate_policy_file
from harness.policies.topics import load_topics, topic_index, topic_keys

__all__ = [
    "CATEGORY_KEYS", "REFERENCE_VERSION", "RESTRICTED_AS", "VERDICTS",
    "Category", "Crosswalk", "CrosswalkLabel", "Policy", "PolicyDiff", "Provenance", "RestrictedAs", "Topic",
    "TopicChange", "TopicVerdict", "VerdictRef",
    "check_restricted_as", "diff", "is_violation", "label_category_matrix", "list_crosswalks",
    "list_versions", "load_crosswalk", "load_policy", "load_topics", "parse_policy",
    "imitation_mask", "policy_summary", "project_scores", "project_truth", "scaffold_policy",
    "topic_category_matrix", "topic_index", "topic_keys", "validate_policy_file",
]
