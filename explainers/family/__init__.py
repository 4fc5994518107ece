r"""
# BERT's family: one change each

Most of BERT's successors keep its Transformer and change one thing about what it sees.

**SpanBERT** (Joshi et al., 2020) masks *contiguous spans* instead of single pieces. A span's length is drawn
from a geometric distribution clipped at $\ell_\max = 10$,

$$P(\ell) = \frac{p\,(1-p)^{\ell-1}}{\sum_{k=1}^{\ell_\max} p\,(1-p)^{k-1}}, \qquad \ell = 1, \dots, \ell_\max,
\quad p = 0.2,$$

so the mean span is about 3.8 pieces; spans are drawn, each at a random start, until 15 % of the maskable pieces
are chosen. (The paper measures spans in whole words; here they are word pieces.) Inside a span the model must
rebuild several neighbouring pieces from the context on both sides of the span only.

**UniLM** (Dong et al., 2019) trains one Transformer for three kinds of language model by changing only the
self-attention mask $M$ added to the attention scores ($M_{ij} = 0$: position $i$ may attend to $j$;
$M_{ij} = -\infty$: it may not):

* bidirectional (BERT): $M_{ij} = 0$ for all $i, j$;
* left-to-right (GPT): $M_{ij} = 0$ if $j \le i$;
* sequence-to-sequence: with a source of $s$ positions, a source position attends to the whole source, and a
  target position attends to the whole source and to the target up to itself: $M_{ij} = 0$ if $j < s$, or if
  $i \ge s$ and $j \le i$.

The encoder here is applied under such a mask as it is: the bidirectional mask gives exactly its ordinary output.

**RoBERTa** (Liu et al., 2019) masks *dynamically*. With static masking (BERT's preprocessing) a sequence
seen in epoch $e$ carries mask $e \bmod d$ of $d$ precomputed copies; with dynamic masking every epoch draws
anew. After $k$ different masks at rate $r$, a piece has been a prediction target at least once with
probability $1 - (1 - r)^k$: static masking stops at $k = d$.

**ERNIE** (Sun et al., 2019) masks in three stages: single pieces (basic level, BERT's), then whole phrases,
then whole named entities, each stage drawing its units until 15 % of the pieces are chosen. Units are
found here by longest match against WordNet's multi-word lemmas (phrases, in lower case) and capitalised
noun lemmas (entities, as typed).

**MASS** (Song et al., 2019) masks a fragment $x^{u:v}$ of $k = v - u$ pieces for the encoder, and a decoder
predicts it left to right,

$$\mathcal{L} = -\sum_{t=u}^{v-1} \log P\big(x_t \mid x_{u:t},\ x^{\setminus u:v}\big),$$

reading the fragment shifted right by one (teacher forcing) under a causal self-attention mask, and the whole
encoder output through cross-attention. $k = 1$ is BERT's masked LM; $k$ = the sentence is a left-to-right LM.

One module a model: `roberta`, `spanbert`, `ernie`, `unilm`, `mass`; here, what their captions share.
"""
from __future__ import annotations


def direction(first: float, second: float, tolerance: float) -> str:
    """How `first` compares with `second`, in the words a caption picks: "lower", "same" (they differ by less than
    `tolerance`) or "higher"."""
    if abs(first - second) < tolerance:
        return "same"
    return "lower" if first < second else "higher"
