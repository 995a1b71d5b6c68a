"""Policy rules: one module per rule family, each a pure function of a RuleContext.

A rule returns a Verdict: allowed, pending (it may pass later: ``next_evaluation`` says when, or
None when only a person can change it) or denied. All rules of all enabled, matching policies are
ANDed; cheap rules run first and evaluation stops at the first non-allowed verdict.
"""
