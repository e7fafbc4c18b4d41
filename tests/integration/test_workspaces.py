"""Two workspaces in one home share the database and the Milvus collections, and never
see each other's chunks: not in dense results, not in keyword results, not in answers."""

from __future__ import annotations

import pytest

from ddq.config import Settings
from ddq.domain import AnswerStatus
from ddq.errors import DDQError
from ddq.kb import KnowledgeBase

pytestmark = pytest.mark.integration


def in_workspace(settings: Settings, name: str) -> KnowledgeBase:
    return KnowledgeBase(settings.model_copy(update={"workspace": name}))


def test_workspaces_are_isolated(settings: Settings, samples, milvus_ids) -> None:
    acme = samples.text(
        "acme/security.md", "# Acme\n\nAcme encrypts backups with zebracrypt every night.\n"
    )
    shared = samples.text("shared/hosting.md", "# Hosting\n\nServers run in Frankfurt.\n")
    samples.text("acme/library.csv", "Question,Answer\nIs zebracrypt used?,Yes, at Acme.\n")
    beta = samples.text(
        "beta/security.md", "# Beta\n\nBeta encrypts backups with zebracrypt every week.\n"
    )

    with in_workspace(settings, "acme") as kb:
        kb.ingest_paths([acme.parent, shared])
        acme_ids = {c.id for b in kb.store.iter_chunks("acme") for c in b}
    with in_workspace(settings, "beta") as kb:
        kb.ingest_paths([beta, shared])  # the same file in both: two separate documents
        beta_ids = {c.id for b in kb.store.iter_chunks("beta") for c in b}
    assert acme_ids.isdisjoint(beta_ids)

    question = "How are backups encrypted with zebracrypt?"
    for name, own, other in (("acme", acme_ids, beta_ids), ("beta", beta_ids, acme_ids)):
        with in_workspace(settings, name) as kb:
            # Both workspaces' vectors live in one collection ...
            assert milvus_ids(kb.chunk_index) == acme_ids | beta_ids
            # ... but dense search, keyword search and retrieval stay inside one.
            vector = kb.embedder.embed([question])
            dense = kb.chunk_index.search(workspace=name, vectors=vector, limit=50)[0]
            assert {h.id for h in dense} == own
            keyword = kb.keyword_index.search([question], 50)[0]
            assert keyword and {h.id for h in keyword} <= own
            hits = kb.retrieve(question).hits
            assert {h.chunk.id for h in hits} <= own
            assert {h.chunk.workspace for h in hits} == {name}
            assert not {h.chunk.id for h in hits} & other
            assert kb.status().documents == (3 if name == "acme" else 2)

    with in_workspace(settings, "beta") as kb:
        assert kb.ask("Is zebracrypt used?").status is not AnswerStatus.LIBRARY
        assert kb.remove(str(shared)) == 1
    with in_workspace(settings, "acme") as kb:
        assert kb.ask("Is zebracrypt used?").status is AnswerStatus.LIBRARY
        # Removing the shared file from beta left acme's copy alone.
        assert kb.retrieve("Frankfurt servers").hits[0].chunk.source_path == str(shared.resolve())
        assert all(h.in_sync for h in kb.status().indexes)


def test_a_workspace_name_cannot_inject_a_milvus_filter(kb: KnowledgeBase) -> None:
    kb.chunk_index.ensure()
    vector = kb.embedder.embed(["anything"])
    with pytest.raises(DDQError):
        kb.chunk_index.search(workspace='x" or workspace != "x', vectors=vector, limit=5)
