"""The demo corpus's shipped vectors: the bundled model's own, used only for the exact texts they were made of."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from agent.corpus import read_corpus
from agent.embeddings import MODEL_NAME, embed_texts, from_blob, from_shipped, paper_text
from agent.search import search_claims
from claims.importer import import_bundled
from claims.models import Paper
from claims.settings import Settings
from claims.store import open_store
from tests.conftest import DEMO_CORPUS


def demo_texts() -> list[str]:
    return [paper_text(r.title, r.summary) for r in read_corpus(DEMO_CORPUS)]


def test_every_demo_paper_has_a_shipped_vector_equal_to_the_models() -> None:
    texts = demo_texts()
    hits = from_shipped(texts)
    assert sorted(hits) == list(range(len(texts))), "run scripts/demo-vectors after changing the demo corpus"
    sample = sorted({0, len(texts) // 2, len(texts) - 1, *range(1, len(texts), 23)})
    fresh = embed_texts([texts[i] for i in sample])
    for i, vector in zip(sample, fresh):
        np.testing.assert_allclose(hits[i], vector, atol=1e-5)


def test_a_changed_text_is_embedded_not_looked_up() -> None:
    text = demo_texts()[0]
    assert set(from_shipped([text, text + " (v2)", text.lower(), "an unrelated text"])) == {0}


def test_a_first_search_over_the_demo_corpus_embeds_nothing_and_stores_the_vectors(db_url: str,
                                                                                   settings: Settings) -> None:
    store = open_store(db_url)
    import_bundled(store)
    lines: list[str] = []
    report = search_claims(store, settings, corpus=DEMO_CORPUS, progress=lines.append)
    n = len(demo_texts())
    assert f"embedding 0 papers (0 cached, {n} from the shipped demo vectors)" in lines
    assert all(report.candidates.values())
    with store.read() as s:
        papers = s.scalars(select(Paper)).all()
        assert len(papers) == n and {p.embedding_model for p in papers} == {MODEL_NAME}
        first = {p.arxiv_id: from_blob(p.embedding) for p in papers}
    again: list[str] = []
    search_claims(store, settings, corpus=DEMO_CORPUS, progress=again.append)
    assert not any(line.startswith("embedding") for line in again)  # stored: nothing to embed or look up
    with store.read() as s:
        assert all(np.array_equal(first[p.arxiv_id], from_blob(p.embedding)) for p in s.scalars(select(Paper)))
    store.dispose()
