from __future__ import annotations

import pytest

from icop.embeddings import shared_embedder
from icop.planning.clustering import TopicClusterer


@pytest.fixture(scope="session")
def clusterer() -> TopicClusterer:
    """The real English model (what ``auto`` gives English rows) and BERTopic, warmed once for the session."""
    return TopicClusterer(shared_embedder("minilm"))


@pytest.fixture(scope="session")
def e5_clusterer() -> TopicClusterer:
    """The real multilingual model (Korean, mixed and cross-language plans), warmed once for the session."""
    return TopicClusterer(shared_embedder("e5-small"))
