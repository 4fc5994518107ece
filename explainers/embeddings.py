r"""
# Input embeddings: what the encoder actually receives

Every token $x_i$ at position $i$ in segment $s_i$ becomes one vector of size $d$ (384 here, 768 in BERT-base):

$$e_i = \mathrm{LayerNorm}\big(E_\text{tok}[x_i] + E_\text{seg}[s_i] + E_\text{pos}[i]\big)$$

* **Token embedding** $E_\text{tok}$: one learned row per vocabulary entry: what the piece *is*.
* **Segment embedding** $E_\text{seg}$: two rows, A and B, so that the model can tell the two sentences of a
  pair apart (question/passage, premise/hypothesis).
* **Position embedding** $E_\text{pos}$: one learned row per position 0…511. Self-attention treats its input
  as a *set*: permute the tokens and each token's output is permuted the same way. Without positions,
  "dog bites man" and "man bites dog" would look identical.
* **LayerNorm** rescales each summed vector to zero mean and unit variance, then applies a learned gain
  $\gamma$ and bias $\beta$: $\mathrm{LN}(v) = \gamma \odot (v - \mu)/\sqrt{\sigma^2 + \epsilon} + \beta$.
  (Dropout follows in training; it is off here.)

The `[CLS]` token's final hidden vector is what a classifier reads: it sits at position 0 in every input and
learns to summarise the sequence during fine-tuning.
DistilBERT has no segment embedding: its sum has two terms.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from explainers.errors import require


@dataclass(frozen=True)
class EmbeddingParts:
    """Every array is `[T, d]` for the T tokens of one input."""

    token: np.ndarray  # E_tok[x_i]
    segment: np.ndarray | None  # E_seg[s_i]; None for models without segment embeddings (DistilBERT)
    position: np.ndarray  # E_pos[i]
    summed: np.ndarray  # token + segment + position
    normed: np.ndarray  # LayerNorm(summed): the encoder's input


def _embedding_module(encoder):
    emb = encoder.embeddings
    require(hasattr(emb, "word_embeddings") and hasattr(emb, "position_embeddings"),
            f"{type(emb).__name__} has no word/position embeddings of the BERT layout")
    return emb


@torch.no_grad()
def embedding_parts(encoder, input_ids: torch.Tensor, token_type_ids: torch.Tensor | None = None) -> EmbeddingParts:
    """Split the embedding layer of `encoder` (a BertModel, DistilBertModel or ElectraModel) into its terms.

    input_ids, token_type_ids: `[1, T]`.
    """
    require(input_ids.dim() == 2 and input_ids.shape[0] == 1, f"one sequence [1, T], got {tuple(input_ids.shape)}")
    emb = _embedding_module(encoder)
    T = input_ids.shape[1]
    positions = torch.arange(T, device=input_ids.device)
    tok = emb.word_embeddings(input_ids[0])  # [T, d]
    pos = emb.position_embeddings(positions)  # [T, d]
    seg = None
    if getattr(emb, "token_type_embeddings", None) is not None:
        types = token_type_ids[0] if token_type_ids is not None else torch.zeros_like(input_ids[0])
        seg = emb.token_type_embeddings(types)  # [T, d]
    summed = tok + pos + (seg if seg is not None else 0)
    normed = emb.LayerNorm(summed)
    as_np = lambda t: None if t is None else t.float().cpu().numpy()
    return EmbeddingParts(as_np(tok), as_np(seg), as_np(pos), as_np(summed), as_np(normed))


@torch.no_grad()
def position_cosine(encoder, n: int) -> np.ndarray:
    """`[n, n]` cosine similarity between the position embeddings of positions 0..n-1."""
    weight = _embedding_module(encoder).position_embeddings.weight[:n].float()
    unit = torch.nn.functional.normalize(weight, dim=-1)
    return (unit @ unit.T).cpu().numpy()


@dataclass(frozen=True)
class Projection:
    points: np.ndarray  # [T, 2]: coordinates on the first two principal components
    explained: np.ndarray  # [2]: share of the variance each component explains


def pca_2d(x: np.ndarray) -> Projection:
    """Project the rows of `x` `[T, d]` onto their first two principal components (SVD of the centred data)."""
    require(x.ndim == 2 and x.shape[0] >= 2, f"need at least two rows, got shape {x.shape}")
    centred = x - x.mean(0, keepdims=True)
    u, s, vt = np.linalg.svd(centred.astype(np.float64), full_matrices=False)
    k = min(2, len(s))
    points = np.zeros((x.shape[0], 2))
    points[:, :k] = u[:, :k] * s[:k]
    var = s ** 2
    explained = np.zeros(2)
    explained[:k] = var[:k] / var.sum() if var.sum() > 0 else 0.0
    # fix the sign so the picture does not flip between runs: the largest |coordinate| is positive
    for j in range(k):
        if points[np.abs(points[:, j]).argmax(), j] < 0:
            points[:, j] *= -1
    return Projection(points, explained)


def similarity_by_distance(cos: np.ndarray) -> np.ndarray:
    """`[n]`: the mean of `cos` `[n, n]` over pairs of positions `d` apart, `d = 0..n-1` (1 at `d = 0`): how the
    similarity of two position vectors changes with their distance, the band the heatmap shows."""
    require(cos.ndim == 2 and cos.shape[0] == cos.shape[1], f"need a square [n, n], got {cos.shape}")
    return np.array([np.diagonal(cos, offset=d).mean() for d in range(cos.shape[0])])


@dataclass(frozen=True)
class RowSteps:
    """How much consecutive rows of `[T, d]` arrays differ: mean cosine of rows i and i+1, against rows at least
    `far` apart. The words under the "every token" heatmaps read these numbers."""

    position_next: float  # mean cos(E_pos[i], E_pos[i+1])
    position_far: float  # mean cos(E_pos[i], E_pos[j]), j - i >= far
    token_next: float  # mean cos(E_tok[x_i], E_tok[x_i+1])
    far: int


def _cos_rows(a: np.ndarray) -> np.ndarray:
    unit = a / np.clip(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12, None)
    return unit @ unit.T


def row_steps(parts: EmbeddingParts, far: int = 3) -> RowSteps | None:
    """`RowSteps` of an input's token and position rows; None below `far + 1` tokens (no pair that far apart)."""
    T = parts.token.shape[0]
    if T < far + 1:
        return None
    pos, tok = _cos_rows(parts.position), _cos_rows(parts.token)
    far_pairs = np.concatenate([np.diagonal(pos, offset=d) for d in range(far, T)])
    return RowSteps(float(np.diagonal(pos, 1).mean()), float(far_pairs.mean()), float(np.diagonal(tok, 1).mean()),
                    far)


def map_neighbours(x: np.ndarray, points: np.ndarray) -> int:
    """How many rows of `x` `[T, d]` have the same nearest other row in `x` as on the map `points` `[T, 2]`: the
    share of neighbours a 2-D picture keeps."""
    require(len(x) == len(points) >= 2, f"need the same rows, at least two: {x.shape} vs {points.shape}")

    def nearest(a):
        dist = np.linalg.norm(a[:, None] - a[None], axis=-1)
        np.fill_diagonal(dist, np.inf)
        return dist.argmin(1)

    return int((nearest(x.astype(np.float64)) == nearest(points)).sum())
