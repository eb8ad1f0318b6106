"""LightGCN: user and item embeddings smoothed over the interaction graph, trained with the BPR loss.

He et al., "LightGCN: Simplifying and Powering Graph Convolution Network for Recommendation" (SIGIR 2020).
Only neighbourhood aggregation is kept from graph convolution: no feature transform, no non-linearity,
no self-loop. With the bipartite adjacency A = [[0, R], [R^T, 0]] normalised as D^-1/2 A D^-1/2, layer
k+1 is E(k+1) = norm_adj @ E(k); the final vectors are the mean of layers 0..K (lightgcn_net.py), and the
score is their dot product. The loss is BPR plus an L2 penalty on the batch's layer-0 (ego) embeddings.

`training/configs/lightgcn.yaml` follows RecBole 1.2.1's LightGCN (embedding 64, 2 layers, reg_weight 1e-5,
Xavier-uniform initialisation, lr 1e-3, batch 2048). Like RecBole (`require_pow: False`), the penalty is the
sum of the three batch matrices' L2 (Frobenius) norms, not squared, divided by the batch size; the paper
writes the squared norm. Everything else is BPR-MF's (bpr.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal, cast

import numpy as np
import scipy.sparse as sp
from pydantic import Field

from ..interactions import Interactions
from .base import RankerParams, register
from .bpr import BPR, BPRParams, ego_penalty

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .lightgcn_net import LightGCNNet


class LightGCNParams(BPRParams):
    """Hyper-parameters of LightGCN; their values are in training/configs/lightgcn.yaml."""

    n_layers: int = Field(ge=0, description="propagation layers K (0 is plain MF)")
    reg_weight: float = Field(ge=0.0, description="weight of the L2 penalty on ego embeddings")


def normalized_adjacency(matrix: sp.csr_matrix) -> sp.csr_matrix:
    """Return D^-1/2 A D^-1/2 of the user-item graph, users first then items (float32, CSR, symmetric).

    Nodes without edges (items nobody interacted with in training) get 0 instead of dividing by zero;
    their rows are empty anyway, so they keep only their layer-0 embedding.
    """
    binary = matrix.astype(bool).astype(np.float32)
    adjacency = sp.bmat([[None, binary], [binary.T, None]], format="csr", dtype=np.float32)
    degree = np.asarray(adjacency.sum(axis=1), dtype=np.float64).reshape(-1)
    inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
    scale = sp.diags(inv_sqrt.astype(np.float32))
    normalized = (scale @ adjacency @ scale).astype(np.float32).tocsr()
    normalized.sort_indices()
    return normalized


@register("lightgcn")
class LightGCN(BPR):
    """Mean over graph-propagation layers of user and item embeddings; score = dot product."""

    Params: ClassVar[type[RankerParams]] = LightGCNParams
    init: ClassVar[Literal["normal", "uniform"]] = "uniform"

    def __init__(self, **params: Any) -> None:
        """Start unfitted; `fit` or `load` fills the propagated user and item vectors."""
        super().__init__(**params)
        self.hparams: LightGCNParams

    def _network(self, data: Interactions) -> LightGCNNet:
        """Embedding tables plus the normalised adjacency of `data`'s graph."""
        from .lightgcn_net import LightGCNNet

        hp = self.hparams
        return LightGCNNet(data.n_users, data.n_items, hp.embedding_size, self.init,
                           normalized_adjacency(data.matrix), hp.n_layers)

    def _loss(self, network: nn.Module, users: torch.Tensor, positives: torch.Tensor,
              negatives: torch.Tensor) -> torch.Tensor:
        """BPR loss on propagated vectors plus reg_weight * (sum of the ego batches' L2 norms) / batch size."""
        loss = super()._loss(network, users, positives, negatives)
        if self.hparams.reg_weight == 0.0:
            return loss
        net = cast("LightGCNNet", network)
        ego = (net.users.weight[users], net.items.weight[positives], net.items.weight[negatives])
        return loss + self.hparams.reg_weight * ego_penalty(ego, len(users))
