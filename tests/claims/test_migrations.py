"""The migrations: empty -> head -> base -> head, and the models match what they build."""

from __future__ import annotations

import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from claims.importer import import_bundled, import_path
from claims.models import Base, Claim, Inquiry
from claims.store import Store, script_revisions


def schema_diff(store: Store) -> list:
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
        return compare_metadata(ctx, Base.metadata)


def tables(store: Store) -> set[str]:
    return set(inspect(store.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade_and_the_models_match(any_store):
    _, head = script_revisions()
    assert any_store.revision() == head
    assert schema_diff(any_store) == []  # what `alembic check` reports: no change the migrations lack
    assert tables(any_store) == set(Base.metadata.tables)
    any_store.migrate("base", down=True)
    assert tables(any_store) == set() and any_store.revision() is None
    assert any_store.init() == head
    assert schema_diff(any_store) == []
    assert import_bundled(any_store).outcome == "created"
    with any_store.read() as s:
        assert (len(s.scalars(select(Inquiry)).all()), len(s.scalars(select(Claim)).all())) == (1, 5)


def test_a_database_of_revision_0001_keeps_its_inquiry_on_upgrade(db_url, tmp_path):
    """An inquiry imported before the question key existed is found again by its question."""
    store = Store(db_url)
    store.migrate("0001")
    with sqlite3.connect(store.sqlite_path) as conn:  # the bundled import as 0001 stored it
        conn.execute("INSERT INTO inquiries (slug, title, question, description, summary, prompt_role, prompt_tasks, "
                     "source_path, content_hash, imported_at) VALUES ('does-the-pretrained-model-prior-limit-rl-search-capability', "
                     "'q', 'Does the pretrained model prior limit RL search capability more than the optimization algorithm itself?', "
                     "'', '', '', '', '', 'old-hash', '2026-01-01 00:00:00')")
    store.init()
    assert schema_diff(store) == []
    result = import_bundled(store)
    assert result.outcome == "changed" and result.slug == "does-the-pretrained-model-prior-limit-rl-search-capability"
    store.migrate("0001", down=True)
    assert "question_key" not in {c["name"] for c in inspect(store.engine).get_columns("inquiries")}
    store.dispose()


def test_two_questions_with_the_same_first_words_are_two_inquiries(store, tmp_path):
    from claims.importer import bundled_path

    text = bundled_path().read_text()
    question = "Does the pretrained model prior limit RL search capability more than the optimization algorithm itself?"
    other = "Does the pretrained model prior limit RL search capability in multilingual settings?"
    assert question[:58] == other[:58]
    first = import_bundled(store)
    doc = tmp_path / "other.txt"
    doc.write_text(text.replace(question, other))
    result = import_path(store, doc)
    assert result.outcome == "created" and result.claim_keys == ["C6", "C7", "C8", "C9", "C10"]
    assert result.proposals == [] and result.slug != "does-the-pretrained-model-prior-limit-rl-search-capability"
    # the same question, differently cased and punctuated, is the same inquiry
    doc.write_text(text.replace(question, question.upper().replace("?", " ?")))
    again = import_path(store, doc)
    assert (again.inquiry_id, again.outcome, again.proposals) == (first.inquiry_id, "changed", [])
    with store.read() as s:
        assert len(s.scalars(select(Inquiry)).all()) == 2


def test_questions_in_any_script_are_told_apart(store, tmp_path):
    from claims.importer import bundled_path

    text = bundled_path().read_text()
    question = "Does the pretrained model prior limit RL search capability more than the optimization algorithm itself?"
    results = []
    for i, other in enumerate(["强化学习是否受限于预训练先验？", "强化学习是否受限于优化算法？"]):
        doc = tmp_path / f"zh{i}.txt"
        doc.write_text(text.replace(question, other))
        results.append(import_path(store, doc))
    assert [r.outcome for r in results] == ["created", "created"]
    assert results[0].slug == "inquiry" and results[1].slug.startswith("inquiry-")


def test_the_migration_computes_the_key_as_the_importer_does():
    import importlib.util
    from pathlib import Path

    from claims.document import question_key

    path = Path(__file__).resolve().parents[2] / "claims" / "migrations" / "versions" / "0002_inquiry_question_key.py"
    spec = importlib.util.spec_from_file_location("migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for q in ["Does X help?", "DOES x, help ", "强化学习是否受限于预训练先验？", "Ｆｕｌｌ-width Ünïcode?"]:
        assert module.question_key(q) == question_key(q)
    assert question_key("Does X help?") == question_key("does  x, help") != question_key("Does Y help?")
