"""Social syndication: platform text (``text``), limits (``limits``), platform clients (``clients``),
token access (``tokens``) and the publishing service (``publisher``)."""
