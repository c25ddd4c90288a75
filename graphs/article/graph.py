"""The article graph: brand voice → research (search, fetch, extract) → the Researcher's brief → three
writers in parallel → Editor | Merger → SEO → Visual Director → formatter.

```
START → voice → research → brief ─┬─ writer_gpt ────┐
                                  ├─ writer_claude ─┼─ gather ─(mode)─ compare → editor ─┐
                                  └─ writer_gemini ─┘                  merge   → merger ─┴→ seo
seo → visual_director → formatter → END
```
``research`` is a node of its own so that its searches and page fetches are checkpointed before the
brief's model call: a run resumed after a crash never searches or fetches again.
The writers run concurrently (one super-step); their drafts are joined by the ``drafts`` reducer.
``voice`` looks up the tenant's brand-voice samples closest to the topic once (kept in the state, so a
resumed graph does not query again); every writer gets them as style guidance.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph

from icop.connectors.config import LLM_NAMES
from icop.connectors.usage import UsageSink
from icop.settings import Settings

from .agents import Agents, make_agents
from .nodes import ArticleNodes, KeyPauses, NoResearch, ResearchSource, StyleSource
from .state import ArticleContext, ArticleState, Mode
from .writers import ArticleWriter, WriterCall


def route_mode(state: ArticleState) -> Literal["editor", "merger"]:
    """compare → the Editor scores and picks; merge → the Merger combines."""
    return "merger" if state.get("mode") == "merge" else "editor"


def make_graph(
    writers: Mapping[str, WriterCall],
    agents: Agents,
    *,
    researcher: ResearchSource | None = None,
    usage_sink: UsageSink | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    voice: StyleSource | None = None,
    prompt_caching: bool = True,
    key_pauses: KeyPauses | None = None,
) -> Any:
    """The compiled graph. ``writers`` maps a writer's name to how it is called (in-process or a
    Ray Serve handle, see ``deployments.writers.writer_call``); ``researcher`` searches and fetches
    (none: every article is unsourced, and marked so); ``voice`` gives the tenant's brand-voice samples
    (none: the writers get no style section); ``prompt_caching``: the writers' prompts mark their shared
    prefix as a cache breakpoint (``Settings.prompt_caching``); ``key_pauses`` pauses a tenant key its
    vendor refused (none: the failure is only recorded on the article). A run's tenant keys come in its
    context (``ArticleContext``), never in its state."""
    if not writers:
        raise ValueError("the graph needs at least one writer")
    nodes = ArticleNodes(agents, researcher or NoResearch(), usage_sink, voice, prompt_caching, key_pauses)
    g = StateGraph(ArticleState, context_schema=ArticleContext)
    g.add_node("voice", nodes.voice_samples)
    g.add_node("research", nodes.research)
    g.add_node("brief", nodes.brief)
    names = [f"writer_{w}" for w in writers]
    for w, call in writers.items():
        g.add_node(f"writer_{w}", nodes.writer(w, call))
    g.add_node("gather", nodes.gather)
    g.add_node("editor", nodes.editor)
    g.add_node("merger", nodes.merger)
    g.add_node("seo", nodes.seo)
    g.add_node("visual_director", nodes.visual_director)
    g.add_node("formatter", nodes.formatter)

    g.add_edge(START, "voice")
    g.add_edge("voice", "research")
    g.add_edge("research", "brief")
    for n in names:
        g.add_edge("brief", n)
    g.add_edge(names, "gather")  # waits for every writer
    g.add_conditional_edges("gather", route_mode, {"editor": "editor", "merger": "merger"})
    g.add_edge("editor", "seo")
    g.add_edge("merger", "seo")
    g.add_edge("seo", "visual_director")
    g.add_edge("visual_director", "formatter")
    g.add_edge("formatter", END)
    return g.compile(checkpointer=checkpointer)


def local_writers(settings: Settings) -> dict[str, WriterCall]:
    """One in-process writer per provider (the Serve deployments wrap the same class)."""
    return {name: ArticleWriter.from_settings(settings, name).write for name in LLM_NAMES}


def article_input(
    topic: str,
    mode: Mode = "compare",
    language: str = "en",
    *,
    notes: str = "",
    image_urls: list[str] | None = None,
    tenant_id: str | None = None,
    article_id: str | None = None,
    search_provider: str = "",
    on_research_failure: str = "",
) -> ArticleState:
    """The graph's input; tenant, article and the pipeline's research settings arrive here, never from
    the environment (an empty research setting means the platform's default)."""
    if mode not in ("compare", "merge"):
        raise ValueError(f"mode must be 'compare' or 'merge', not {mode!r}")
    state = ArticleState(
        topic=topic,
        mode=mode,
        language=language,
        notes=notes,
        image_urls=list(image_urls or []),
        tenant_id=tenant_id,
        article_id=article_id,
    )
    if search_provider:
        state["search_provider"] = search_provider
    if on_research_failure:
        state["on_research_failure"] = on_research_failure
    return state


def default_graph(settings: Settings, pool: Any = None, **kwargs: Any) -> Any:
    """In-process writers and agents from settings, and the researcher (the CLI's graph); with ``pool``
    the tenant's stored search keys and page cache are used."""
    from icop.research.service import Researcher

    kwargs.setdefault("researcher", Researcher.from_settings(settings, pool))
    kwargs.setdefault("prompt_caching", settings.prompt_caching)
    return make_graph(local_writers(settings), make_agents(settings), **kwargs)
