"""``--target`` names are checked against release targets first; recorded state (every target's
row, 300,000 of them in a large fleet) is read only for a name that is not a release target."""

from __future__ import annotations

import pytest

from reconciler.engine.planner import check_targets
from reconciler.engine.session import open_session
from reconciler.errors import UsageError
from reconciler.planning.targets import TargetSource


def test_known_targets_read_no_recorded_state(quickstart, monkeypatch):
    session = open_session(str(quickstart), readonly=True)
    try:
        reads = []
        real = session.store.target_states
        monkeypatch.setattr(session.store, "target_states", lambda **kw: reads.append(kw) or real(**kw))
        targets = TargetSource(session.catalog)
        check_targets(session, targets, ["api/staging/staging-cluster", "api/production/cluster-1"])
        assert reads == []
        with pytest.raises(UsageError, match="'api/production/cluster-9' is not a release target; did you mean"):
            check_targets(session, targets, ["api/staging/staging-cluster", "api/production/cluster-9"])
        assert reads == [{"details": False}]
    finally:
        session.close()
