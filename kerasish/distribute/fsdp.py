"""FSDP2: shard a network block by block, and read or load its whole state dict for saving."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.distributed as dist
from torch import nn

__all__ = [
    "is_fsdp",
    "fully_shard",
    "broadcast_module",
    "full_state_dict",
    "load_full_state_dict",
    "full_optimizer_state_dict",
    "load_full_optimizer_state_dict",
]


def is_fsdp(model: nn.Module) -> bool:
    """True when ``model`` was sharded with FSDP2's ``fully_shard``."""
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def broadcast_module(model: nn.Module) -> None:
    """Copy rank 0's parameters and buffers to every rank (an FSDP model is left alone)."""
    if is_fsdp(model):
        return
    with torch.no_grad():
        for t in [*model.parameters(), *model.buffers()]:
            dist.broadcast(t.data, src=0)


def _units(model: nn.Module) -> list[nn.Module]:
    """The blocks to shard one by one: the children below the chain of single containers."""
    root = model
    while True:
        children = [c for c in root.children() if any(True for _ in c.parameters())]
        if len(children) != 1:
            return children
        root = children[0]


def fully_shard(model: nn.Module, optimizer: torch.optim.Optimizer | None) -> None:
    """Shard ``model`` (each block, then the whole) from rank 0's weights; once.

    An optimizer built before sharding is pointed at the sharded parameters.

    Raises:
        ValueError: when ``optimizer`` has already stepped (its state is per parameter).
    """
    from torch.distributed.fsdp import fully_shard as shard

    if is_fsdp(model):
        return
    names = {id(p): n for n, p in model.named_parameters()}
    broadcast_module(model)  # the shards then come from one set of weights
    for unit in _units(model):
        if not is_fsdp(unit):
            shard(unit)
    shard(model)
    if optimizer is not None:
        _remap_optimizer(model, optimizer, names)


def _remap_optimizer(model: nn.Module, opt: torch.optim.Optimizer, names: dict[int, str]) -> None:
    """Point an optimizer built before ``fully_shard`` at the sharded parameters, in place.

    State it already holds (loaded from a checkpoint, say) is re-cut into each rank's shards.
    """
    saved = opt.state_dict() if opt.state else None
    opt.state.clear()
    new = dict(model.named_parameters())
    for group in opt.param_groups:
        group["params"] = [new[names[id(p)]] if id(p) in names else p for p in group["params"]]
    if saved is not None:
        load_full_optimizer_state_dict(model, opt, saved)


def full_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's whole state dict, also for an FSDP-sharded model (for saving).

    For FSDP this is collective (call it on every rank): rank 0 gets the full tensors on the
    CPU, the other ranks an empty dict. Otherwise it is ``model.state_dict()``.

    Example:
        >>> sd = full_state_dict(model)  # on every rank
        >>> if K.distribute.is_main_process():
        ...     torch.save(sd, "model.pt")
        >>> sd.keys() == model.state_dict().keys()  # not FSDP-sharded: the state dict itself
        True
    """
    if not is_fsdp(model):
        return model.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    return get_model_state_dict(model, options=options)


def load_full_state_dict(model: nn.Module, state_dict: Mapping[str, torch.Tensor]) -> None:
    """Load a whole state dict, also into an FSDP-sharded model (each rank keeps its shard).

    For FSDP this is collective: rank 0 passes the full dict, the others may pass ``{}``.

    Example:
        >>> torch.save(model.state_dict(), "model.pt")
        >>> main = K.distribute.is_main_process()
        >>> load_full_state_dict(model, torch.load("model.pt") if main else {})
    """
    if not is_fsdp(model):
        model.load_state_dict(state_dict)
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_model_state_dict

    options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
    set_model_state_dict(model, dict(state_dict), options=options)


def _param_names(model: nn.Module, optimizer: torch.optim.Optimizer) -> list[str]:
    """The names of the optimizer's parameters, in its order (torch's integer state keys)."""
    names = {id(p): n for n, p in model.named_parameters()}
    return [names[id(p)] for g in optimizer.param_groups for p in g["params"]]


def full_optimizer_state_dict(model: nn.Module, optimizer: torch.optim.Optimizer) -> dict:
    """The optimizer's whole state dict in torch's layout, also for an FSDP-sharded model.

    For FSDP this is collective (call it on every rank): rank 0 gets the whole dict on the
    CPU, the other ranks an empty dict. The shards are gathered through
    ``torch.distributed.checkpoint``'s ``get_optimizer_state_dict`` and keyed back by position,
    so the dict is the one an unsharded optimizer gives (it loads in one process, and
    :func:`load_full_optimizer_state_dict` loads it into any number of ranks).

    Example:
        >>> _ = model.fit(x, y, epochs=1, verbose=0)
        >>> sd = full_optimizer_state_dict(model, model.optimizer)
        >>> {"param_groups", "state"} <= set(sd)  # kerasish's optimizers add "iterations"
        True
    """
    if not is_fsdp(model):
        return optimizer.state_dict()
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_optimizer_state_dict

    options = StateDictOptions(full_state_dict=True, cpu_offload=True)
    named = get_optimizer_state_dict(model, optimizer, options=options)
    if not named:
        return {}  # the whole dict lands on rank 0, as the model's does
    index = {name: i for i, name in enumerate(_param_names(model, optimizer))}
    groups = [{**g, "params": [index[n] for n in g["params"]]} for g in named["param_groups"]]
    return {"state": {index[n]: v for n, v in named["state"].items()}, "param_groups": groups}


def load_full_optimizer_state_dict(
    model: nn.Module, optimizer: torch.optim.Optimizer, state_dict: Mapping
) -> None:
    """Load a whole optimizer state dict (torch's layout), also into an FSDP-sharded model.

    For FSDP this is collective: rank 0 passes the whole dict (the others may pass ``{}``); it is
    broadcast and each rank keeps its shard.

    Example:
        >>> _ = model.fit(x, y, epochs=1, verbose=0)
        >>> sd = full_optimizer_state_dict(model, model.optimizer)
        >>> load_full_optimizer_state_dict(model, model.optimizer, sd)
    """
    if not is_fsdp(model):
        optimizer.load_state_dict(dict(state_dict))
        return
    from torch.distributed.checkpoint.state_dict import StateDictOptions, set_optimizer_state_dict

    names = _param_names(model, optimizer)
    named = {}
    if state_dict:
        named = {
            "state": {names[i]: v for i, v in state_dict["state"].items()},
            "param_groups": [
                {**g, "params": [names[i] for i in g["params"]]} for g in state_dict["param_groups"]
            ],
        }
    options = StateDictOptions(full_state_dict=True, broadcast_from_rank0=True)
    set_optimizer_state_dict(model, optimizer, named, options=options)
