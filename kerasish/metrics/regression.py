"""Regression and probabilistic metrics: R2Score and the per-sample means MAPE, cosine
similarity, log-cosh error, Poisson and KL divergence (Keras's formulas and names)."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from kerasish import losses
from kerasish.metrics.base import MeanMetricWrapper, Metric, weight_tensor

__all__ = [
    "R2Score",
    "MeanAbsolutePercentageError",
    "CosineSimilarity",
    "LogCoshError",
    "Poisson",
    "KLDivergence",
    "mean_absolute_percentage_error",
    "cosine_similarity",
    "log_cosh",
    "poisson",
    "kl_divergence",
]

# The losses whose per-sample values (the mean over non-batch dimensions) the metrics average.
_MAPE = losses.MeanAbsolutePercentageError()
_LOG_COSH = losses.LogCosh()
_POISSON = losses.Poisson()
_KLD = losses.KLDivergence()


def mean_absolute_percentage_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample ``100 * mean(|(y_true - y_pred) / max(|y_true|, eps)|)``."""
    return _MAPE.call(y_true, y_pred)


def log_cosh(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample mean of ``log(cosh(y_pred - y_true))``."""
    return _LOG_COSH.call(y_true, y_pred)


def poisson(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample mean of ``y_pred - y_true * log(y_pred + eps)``."""
    return _POISSON.call(y_true, y_pred)


def kl_divergence(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """Per-sample ``sum(y_true * log(y_true / y_pred))`` over the last axis (clipped to [eps, 1])."""
    return _KLD.call(y_true, y_pred)


def cosine_similarity(y_true: Tensor, y_pred: Tensor, axis: int = -1) -> Tensor:
    """Per-sample cosine similarity along ``axis`` (1 is best, as Keras's metric)."""
    y_true = losses.align(losses.as_float(y_true, y_pred), y_pred, "this metric")
    true = y_true * torch.rsqrt(y_true.square().sum(dim=axis, keepdim=True).clamp(min=1e-12))
    pred = y_pred * torch.rsqrt(y_pred.square().sum(dim=axis, keepdim=True).clamp(min=1e-12))
    return losses.per_sample((true * pred).sum(dim=axis))


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean absolute percentage error over all samples seen.

    Example:
        >>> m = MeanAbsolutePercentageError()
        >>> m.update_state(torch.tensor([2.0, 4.0]), torch.tensor([1.0, 4.0])); m.result()
        tensor(25.)
    """

    def __init__(self, name: str | None = "mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, name=name)


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity between y_true and y_pred along ``axis``.

    Args:
        name: the log key.
        axis: the axis along which the similarity is computed.

    Example:
        >>> m = CosineSimilarity()
        >>> m.update_state(torch.tensor([[0.0, 1.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0], [1.0, 1.0]]))
        >>> m.result()
        tensor(0.5000)
    """

    def __init__(self, name: str | None = "cosine_similarity", axis: int = -1):
        super().__init__(cosine_similarity, name=name, axis=axis)
        self.axis = axis


class LogCoshError(MeanMetricWrapper):
    """The mean of ``log(cosh(y_pred - y_true))`` over all samples seen.

    Example:
        >>> m = LogCoshError(); m.update_state(torch.zeros(2), torch.zeros(2)); m.result()
        tensor(0.)
    """

    def __init__(self, name: str | None = "logcosh"):
        super().__init__(log_cosh, name=name)


class Poisson(MeanMetricWrapper):
    """The mean Poisson deviance term ``y_pred - y_true * log(y_pred)`` over all samples seen.

    Example:
        >>> m = Poisson(); m.update_state(torch.ones(2), torch.ones(2)); round(m.result().item(), 4)
        1.0
    """

    def __init__(self, name: str | None = "poisson"):
        super().__init__(poisson, name=name)


class KLDivergence(MeanMetricWrapper):
    """The mean Kullback-Leibler divergence of probability vectors (last axis).

    Example:
        >>> p = torch.tensor([[0.5, 0.5]])
        >>> m = KLDivergence(); m.update_state(p, p); m.result()
        tensor(0.)
    """

    def __init__(self, name: str | None = "kl_divergence"):
        super().__init__(kl_divergence, name=name)


_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """The coefficient of determination R² of 2-D targets (N, D), per output or aggregated.

    As Keras: per output, ``1 - SS_res / SS_tot`` from running weighted sums; with
    ``num_regressors`` p > 0, the adjusted ``1 - (1 - R²) (n - 1) / (n - p - 1)``, n being the
    number of values seen. The state is made at the first update.

    Args:
        class_aggregation: None (one score per output), "uniform_average" or
            "variance_weighted_average".
        num_regressors: the number of independent regressors, for the adjusted R² (>= 0).
        name: the log key.

    Raises:
        ValueError: for bad arguments, or inputs that are not 2-D.

    Example:
        >>> m = R2Score()
        >>> m.update_state(torch.tensor([[1.0], [2.0], [3.0]]), torch.tensor([[1.0], [2.0], [4.0]]))
        >>> m.result()
        tensor(0.5000)
    """

    default_name = "r2_score"

    def __init__(
        self,
        class_aggregation: str | None = "uniform_average",
        num_regressors: int = 0,
        name: str | None = None,
    ):
        super().__init__(name)
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError(
                f"Expected class_aggregation to be one of {list(_AGGREGATIONS)}. "
                f"Received: class_aggregation={class_aggregation!r}"
            )
        if (
            isinstance(num_regressors, bool)
            or not isinstance(num_regressors, int)
            or num_regressors < 0
        ):
            raise ValueError(
                f"Expected num_regressors to be an int >= 0. Received: num_regressors={num_regressors!r}"
            )
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        self.num_samples = 0  # a host count: the number of values seen
        self._built = False

    def _build(self, num_outputs: int) -> None:
        for state in ("squared_sum", "sum", "total_mse", "count"):
            self.add_state(state, torch.zeros(num_outputs))
        self._built = True

    def update_state(self, y_true: Tensor, y_pred: Tensor, sample_weight: Any = None) -> None:
        """Accumulate one batch's sums (the state is made at the first batch)."""
        y_true = losses.align(losses.as_float(y_true, y_pred), y_pred, "this metric")
        if y_pred.ndim != 2:
            raise ValueError(
                f"Expected 2-D y and y_pred of shape (batch_size, output_dim) for {self.name}. "
                f"Received: y.shape={tuple(y_true.shape)}, y_pred.shape={tuple(y_pred.shape)}"
            )
        self._follow(y_pred)
        if not self._built:
            self._build(y_pred.shape[1])
        w = (
            torch.ones((), device=y_pred.device)
            if sample_weight is None
            else weight_tensor(sample_weight, y_pred)
        )
        if w.ndim == 1:
            w = w.unsqueeze(1)
        w = torch.broadcast_to(w, y_true.shape)
        y_true, y_pred = y_true.float(), y_pred.float()
        weighted = y_true * w
        self.sum.add_(weighted.sum(dim=0))
        self.squared_sum.add_((y_true * weighted).sum(dim=0))
        self.total_mse.add_(((y_true - y_pred).square() * w).sum(dim=0))
        self.count.add_(w.sum(dim=0))
        self.num_samples += y_true.numel()

    @property
    def state_names(self) -> tuple[str, ...]:
        """The sums and ``num_samples`` (a host count)."""
        return (*super().state_names, "num_samples")

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Put back a running state (made first, of the saved shape, if not made yet)."""
        saved = state.get("sum")
        if not self._built and isinstance(saved, Tensor):
            self._build(saved.shape[0])
        super().load_state_dict(state)

    def result(self) -> Tensor:
        """Return R² (per output for ``class_aggregation=None``); 0 before any update."""
        if not self._built:
            return torch.zeros((), device=self._device)
        mean = self.sum / self.count
        total = self.squared_sum - self.sum * mean
        raw = 1 - self.total_mse / total
        raw = torch.where(torch.isinf(raw), torch.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = (total * raw).sum() / total.sum()
        else:
            score = raw
        return self._adjusted(score)

    def _adjusted(self, score: Tensor) -> Tensor:
        p, n = self.num_regressors, self.num_samples
        if p == 0:
            return score
        if p >= n - 1:
            warnings.warn(
                "More independent predictors than datapoints in adjusted R2 score (or a "
                "division by zero). Falling back to standard R2 score.",
                stacklevel=3,
            )
            return score
        return 1 - (1 - score) * (n - 1) / (n - p - 1)

    def reset_state(self) -> None:
        """Zero the sums and the count."""
        super().reset_state()
        self.num_samples = 0

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments."""
        return {
            "class_aggregation": self.class_aggregation,
            "num_regressors": self.num_regressors,
            "name": self.name,
        }
