"""The tiny chat model (`tiny_chat.py`), built once per session for the real-model path's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from .tiny_chat import always, build_tiny_chat, write_problems


@pytest.fixture(scope="session")
def tiny_chat(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(model directory, problem file) of the tiny random Qwen2 chat model."""
    root = tmp_path_factory.mktemp("tiny-chat")
    return build_tiny_chat(root / "model"), write_problems(root / "problems.jsonl")


@pytest.fixture(scope="session")
def ends_turn(tiny_chat: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny chat model made to write ``<|im_end|>`` (a generation-config EOS, not the tokenizer's) at once."""
    return always(tiny_chat[0], "<|im_end|>", tmp_path_factory.mktemp("ends-turn") / "model")
