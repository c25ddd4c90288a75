"""A LangGraph checkpointer in PostgreSQL over asyncpg, one tenant per saver.

Why a checkpointer (and not per-node activities): LangGraph saves the finished writes of every task
as soon as the task ends (``aput_writes``) and a checkpoint after every step (``aput``). A graph run
again with the same ``thread_id`` after its process died resumes from the last checkpoint and
re-applies the saved writes, so a writer that had answered is never called again — even when its
siblings in the same parallel step had not. ``langgraph-checkpoint-postgres`` is not installed in
this project (it brings psycopg); this saver is the small subset we need, on our own pool, with
row-level security: every statement runs inside ``tenant_tx``.

Checkpoints are stored whole (channel values included): articles are a few tens of KiB per step.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from uuid import UUID

import asyncpg
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    WRITES_IDX_MAP,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    get_checkpoint_id,
    get_checkpoint_metadata,
)

from icop.db import tenant_tx


def _cfg(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns, "checkpoint_id": checkpoint_id}}


class PgCheckpointSaver(BaseCheckpointSaver[str]):
    """Async-only saver (the graph is always run with ``ainvoke``)."""

    def __init__(self, pool: asyncpg.Pool, tenant_id: UUID | str) -> None:
        super().__init__()
        self.pool = pool
        self.tenant_id = str(UUID(str(tenant_id)))

    # -- reads -------------------------------------------------------------------------------------
    async def _tuple(self, conn: asyncpg.Connection, row: asyncpg.Record) -> CheckpointTuple:
        writes = await conn.fetch(
            """SELECT task_id, channel, value_type, value FROM graph_checkpoint_writes
               WHERE tenant_id = $1 AND thread_id = $2 AND checkpoint_ns = $3 AND checkpoint_id = $4
               ORDER BY task_path, task_id, idx""",
            UUID(self.tenant_id),
            row["thread_id"],
            row["checkpoint_ns"],
            row["checkpoint_id"],
        )
        thread, ns = row["thread_id"], row["checkpoint_ns"]
        metadata = row["metadata"]
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        return CheckpointTuple(
            config=_cfg(thread, ns, row["checkpoint_id"]),
            checkpoint=self.serde.loads_typed((row["checkpoint_type"], bytes(row["checkpoint"]))),
            metadata=metadata,
            parent_config=_cfg(thread, ns, row["parent_checkpoint_id"])
            if row["parent_checkpoint_id"]
            else None,
            pending_writes=[
                (w["task_id"], w["channel"], self.serde.loads_typed((w["value_type"], bytes(w["value"]))))
                for w in writes
            ],
        )

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config["configurable"]
        thread, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        cid = get_checkpoint_id(config)
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            if cid:
                row = await conn.fetchrow(
                    """SELECT * FROM graph_checkpoints WHERE tenant_id = $1 AND thread_id = $2
                       AND checkpoint_ns = $3 AND checkpoint_id = $4""",
                    UUID(self.tenant_id),
                    thread,
                    ns,
                    cid,
                )
            else:
                row = await conn.fetchrow(
                    """SELECT * FROM graph_checkpoints WHERE tenant_id = $1 AND thread_id = $2
                       AND checkpoint_ns = $3 ORDER BY checkpoint_id DESC LIMIT 1""",
                    UUID(self.tenant_id),
                    thread,
                    ns,
                )
            return await self._tuple(conn, row) if row else None

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        clauses: list[str] = ["tenant_id = $1"]
        args: list[Any] = [UUID(self.tenant_id)]
        if config is not None:
            conf = config["configurable"]
            args.append(str(conf["thread_id"]))
            clauses.append(f"thread_id = ${len(args)}")
            if "checkpoint_ns" in conf:
                args.append(conf["checkpoint_ns"])
                clauses.append(f"checkpoint_ns = ${len(args)}")
            if cid := get_checkpoint_id(config):
                args.append(cid)
                clauses.append(f"checkpoint_id = ${len(args)}")
        if before is not None and (bid := get_checkpoint_id(before)):
            args.append(bid)
            clauses.append(f"checkpoint_id < ${len(args)}")
        if filter:
            args.append(json.dumps(filter))
            clauses.append(f"metadata @> ${len(args)}::text::jsonb")
        sql = f"SELECT * FROM graph_checkpoints WHERE {' AND '.join(clauses)} ORDER BY checkpoint_id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            rows = await conn.fetch(sql, *args)
            tuples = [await self._tuple(conn, r) for r in rows]
        for t in tuples:
            yield t

    # -- writes ------------------------------------------------------------------------------------
    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        conf = config["configurable"]
        thread, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        ctype, blob = self.serde.dumps_typed(checkpoint)
        meta = get_checkpoint_metadata(config, metadata)
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            await conn.execute(
                """INSERT INTO graph_checkpoints (tenant_id, thread_id, checkpoint_ns, checkpoint_id,
                     parent_checkpoint_id, checkpoint_type, checkpoint, metadata)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8::text::jsonb)
                   ON CONFLICT (tenant_id, thread_id, checkpoint_ns, checkpoint_id) DO UPDATE
                   SET checkpoint_type = EXCLUDED.checkpoint_type, checkpoint = EXCLUDED.checkpoint,
                       metadata = EXCLUDED.metadata""",
                UUID(self.tenant_id),
                thread,
                ns,
                checkpoint["id"],
                conf.get("checkpoint_id"),
                ctype,
                blob,
                json.dumps(meta, default=str),
            )
        return _cfg(thread, ns, checkpoint["id"])

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        conf = config["configurable"]
        thread, ns, cid = str(conf["thread_id"]), conf.get("checkpoint_ns", ""), conf["checkpoint_id"]
        rows = []
        for idx, (channel, value) in enumerate(writes):
            vtype, blob = self.serde.dumps_typed(value)
            rows.append((WRITES_IDX_MAP.get(channel, idx), channel, vtype, blob))
        # Special channels (errors, interrupts) are replaced; ordinary writes are kept as first saved.
        conflict = (
            "DO UPDATE SET channel = EXCLUDED.channel, value_type = EXCLUDED.value_type, "
            "value = EXCLUDED.value"
        )
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            for idx, channel, vtype, blob in rows:
                action = conflict if idx < 0 else "DO NOTHING"
                await conn.execute(
                    f"""INSERT INTO graph_checkpoint_writes (tenant_id, thread_id, checkpoint_ns,
                          checkpoint_id, task_id, idx, channel, value_type, value, task_path)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                        ON CONFLICT (tenant_id, thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
                        {action}""",
                    UUID(self.tenant_id),
                    thread,
                    ns,
                    cid,
                    task_id,
                    idx,
                    channel,
                    vtype,
                    blob,
                    task_path,
                )

    async def adelete_thread(self, thread_id: str) -> None:
        async with tenant_tx(self.pool, self.tenant_id) as conn:
            for table in ("graph_checkpoint_writes", "graph_checkpoints"):
                await conn.execute(
                    f"DELETE FROM {table} WHERE tenant_id = $1 AND thread_id = $2",
                    UUID(self.tenant_id),
                    str(thread_id),
                )

    def get_next_version(self, current: str | None, channel: None = None) -> str:
        # Same scheme as langgraph's savers: a zero-padded counter sorts as text.
        if current is None:
            current_v = 0
        elif isinstance(current, int):
            current_v = current
        else:
            current_v = int(str(current).split(".")[0])
        return f"{current_v + 1:032}.{random.random():016}"

    # -- sync API: not supported (the graph runs async) --------------------------------------------
    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        raise NotImplementedError("PgCheckpointSaver is async-only: use ainvoke/astream")

    def list(self, *args: Any, **kwargs: Any) -> Iterator[CheckpointTuple]:
        raise NotImplementedError("PgCheckpointSaver is async-only: use alist")

    def put(self, *args: Any, **kwargs: Any) -> RunnableConfig:
        raise NotImplementedError("PgCheckpointSaver is async-only: use aput")

    def put_writes(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError("PgCheckpointSaver is async-only: use aput_writes")
