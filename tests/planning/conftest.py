from __future__ import annotations

import pytest

from icop.planning.clustering import TopicClusterer


@pytest.fixture(scope="session")
def clusterer() -> TopicClusterer:
    """The real embedding model and BERTopic, warmed once for the session."""
    return TopicClusterer()
