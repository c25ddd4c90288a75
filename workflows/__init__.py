"""Module: durable orchestration (Temporal). Workflows are deterministic shells; activities do the I/O.

``types`` (dataclass inputs and results), ``pipeline``/``topic``/``article`` (workflows),
``activities/`` (classes built with their dependencies), ``worker`` (one worker per module queue).
"""
