"""kerasish.data.make_sources / make_feed / Feed: split, shard calls, weights, channels_last,
steps, peek and exhausted generators, checked against torch's own DataLoader."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, Subset, TensorDataset

from kerasish import data

CPU = torch.device("cpu")


class Solo:
    """A stand-in single-process strategy that records the calls the data makes."""

    is_distributed = False

    def __init__(self):
        self.calls: list = []

    def shared_seed(self) -> int:
        self.calls.append("shared_seed")
        return 0

    def shard(self, source, role):
        self.calls.append(("shard", role))
        return source, None

    def set_epoch(self, source, epoch):
        self.calls.append(("set_epoch", epoch))


def _sources(x, y=None, sw=None, **kw):
    kw.setdefault("batch_size", 4)
    return data.make_sources(x, y, sw, device=CPU, strategy=kw.pop("strategy", Solo()), **kw)


def _arrays(n=10):
    x = torch.arange(n * 2, dtype=torch.float32).reshape(n, 2)
    return x, torch.arange(n) % 3


def _all(feed, epoch=0, steps=None):
    return list(feed.epoch(epoch, steps))


# ------------------------------------------------------------------ split and validation
def test_validation_split_takes_the_last_fraction_unshuffled():
    x, y = _arrays(10)
    train, val = _sources(x, y, validation_split=0.2)
    assert torch.equal(train.source.x, x[:8]) and torch.equal(val.source.y, y[8:])
    [(vx, vy, vsw)] = _all(val)
    assert torch.equal(vx, x[8:]) and vsw is None
    assert not val.source.shuffle and train.source.shuffle


def test_validation_data_is_adapted_with_its_own_name_and_steps():
    x, y = _arrays(10)
    train, val = _sources(x, y, validation_data=(x[:6], y[:6], None), validation_steps=1)
    assert val.steps() == 1 and len(_all(val)) == 1
    with pytest.raises(ValueError, match="Received: validation_data with 0 samples"):
        _sources(x, y, validation_data=(x[:0], y[:0]))


def test_no_validation_gives_none():
    assert _sources(*_arrays())[1] is None


def test_validation_split_of_a_dataset_gives_subsets():
    ds = TensorDataset(*_arrays(10))
    train, val = _sources(ds, validation_split=0.3)
    assert isinstance(train.source.loader.dataset, Subset)
    assert list(val.source.loader.dataset.indices) == [7, 8, 9]


def test_the_strategy_is_asked_once_per_source_in_order():
    strategy = Solo()
    train, val = _sources(*_arrays(), validation_split=0.5, strategy=strategy)
    assert strategy.calls == ["shared_seed", ("shard", "train"), ("shard", "eval")]
    _all(train, epoch=3)
    assert strategy.calls[-1] == ("set_epoch", 3)
    list(val.epoch(None))
    assert strategy.calls[-1] == ("set_epoch", 3)  # None: no set_epoch


# ------------------------------------------------------------------ order and parity
def test_shuffled_batches_equal_a_shuffling_dataloader():
    x, y = _arrays(11)
    train, _ = _sources(x, y, batch_size=3)
    torch.manual_seed(5)
    ours = [_all(train) for _ in range(2)]
    torch.manual_seed(5)
    loader = DataLoader(TensorDataset(x, y), batch_size=3, shuffle=True)
    theirs = [list(loader) for _ in range(2)]
    for a, b in zip(itertools.chain(*ours), itertools.chain(*theirs)):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) and a[2] is None
    assert torch.equal(torch.get_rng_state(), torch.random.get_rng_state())


def test_the_order_is_drawn_when_the_epoch_is_called():
    train, _ = _sources(*_arrays(), batch_size=4)
    torch.manual_seed(1)
    state = torch.get_rng_state()
    it = train.epoch(0)
    assert not torch.equal(state, torch.get_rng_state())
    first = next(it)
    torch.set_rng_state(state)
    assert torch.equal(next(train.epoch(0))[0], first[0])


def test_a_resident_source_is_iterated_with_no_extra_stage():
    train, _ = _sources(*_arrays(), shuffle=False)
    assert train.resident() and train.batches() is train.source


# ------------------------------------------------------------------ weights
def test_class_weight_multiplies_into_sample_weight_for_train_only():
    x, y = _arrays(9)
    sw = torch.full((9,), 2.0)
    train, val = _sources(
        x, y, sw, shuffle=False, validation_split=1 / 3, class_weight={0: 1.0, 1: 1.0, 2: 5.0}
    )
    _, yb, wb = _all(train)[0]
    assert torch.equal(wb, 2.0 * torch.tensor([1.0, 1.0, 5.0])[yb])
    _, yv, wv = _all(val)[0]
    assert torch.equal(wv, torch.full((3,), 2.0))  # Keras: class_weight weighs training only


def test_class_weight_reads_one_hot_targets_and_column_labels():
    table = data.class_weight_table({1: 3.0, 2: 1.0}, CPU)
    one_hot = torch.eye(3)[[1, 0, 2]]
    assert torch.equal(data.weigh(table, (None, one_hot, None))[2], torch.tensor([3.0, 1, 1]))
    column = torch.tensor([[1], [0]])
    assert torch.equal(data.weigh(table, (None, column, None))[2], torch.tensor([3.0, 1]))


@pytest.mark.parametrize("bad", [{}, [1.0, 2.0], "balanced"])
def test_class_weight_must_be_a_dict(bad):
    with pytest.raises(ValueError, match="Expected class_weight to be a dict .* Received:"):
        _sources(*_arrays(), class_weight=bad)


# ------------------------------------------------------------------ channels_last
def test_channels_last_for_4d_inputs_only():
    x4 = torch.randn(4, 3, 5, 5)
    train, _ = _sources(x4, torch.zeros(4), channels_last=True)
    [(xb, _, _)] = _all(train)
    assert xb.is_contiguous(memory_format=torch.channels_last)
    flat, _ = _sources(torch.randn(4, 3), torch.zeros(4), channels_last=True)
    assert _all(flat)[0][0].is_contiguous()
    plain, _ = _sources(x4, torch.zeros(4))
    assert not _all(plain)[0][0].is_contiguous(memory_format=torch.channels_last)


# ------------------------------------------------------------------ steps
def test_steps_per_epoch_limits_array_batches():
    train, _ = _sources(*_arrays(10), steps_per_epoch=2)
    assert train.steps() == 2 and len(_all(train)) == 2
    assert train.steps(1) == 1 and len(_all(train, steps=1)) == 1


def test_steps_default_to_the_length_or_none():
    train, _ = _sources(*_arrays(10))
    assert train.steps() == 3
    endless, _ = _sources(iter(lambda: (torch.ones(1, 2), torch.zeros(1)), None))
    assert endless.steps() is None


def test_generator_steps_span_epochs():
    batches = ((torch.full((1, 2), float(i)), torch.zeros(1)) for i in range(5))
    train, _ = _sources(batches, steps_per_epoch=2)
    firsts = [[float(b[0][0, 0]) for b in _all(train)] for _ in range(2)]
    assert firsts == [[0.0, 1.0], [2.0, 3.0]] and not train.exhausted


def test_a_one_shot_generator_runs_out():
    train, _ = _sources((torch.ones(1, 2), torch.zeros(1)) for _ in range(3))
    assert len(_all(train)) == 3 and train.exhausted


def test_a_list_of_batches_is_reiterable():
    train, _ = _sources([(torch.ones(2, 2), torch.zeros(2))] * 2)
    assert len(_all(train)) == 2 and len(_all(train)) == 2 and not train.exhausted


# ------------------------------------------------------------------ peek
def test_peek_takes_two_samples_and_draws_nothing():
    x, y = _arrays()
    train, _ = _sources(x, y)
    state = torch.get_rng_state()
    px, py, psw = train.peek()
    assert torch.equal(px, x[:2]) and torch.equal(py, y[:2]) and psw is None
    assert px.untyped_storage().nbytes() == px.nbytes  # a copy, not a view of all of x
    assert torch.equal(state, torch.get_rng_state())


def test_peek_of_a_dataset_draws_nothing():
    train, _ = _sources(TensorDataset(*_arrays()))
    state = torch.get_rng_state()
    assert train.peek()[0].shape == (2, 2)
    assert torch.equal(state, torch.get_rng_state())


def test_peek_keeps_a_generators_first_batch():
    batches = ((torch.full((3, 2), float(i)), torch.zeros(3)) for i in range(2))
    train, _ = _sources(batches)
    assert train.peek()[0].shape == (2, 2)
    assert [float(b[0][0, 0]) for b in _all(train)] == [0.0, 1.0]


def test_peek_of_an_empty_generator_raises():
    train, _ = _sources(b for b in [])
    with pytest.raises(ValueError, match="Received: an empty generator"):
        train.peek()


# ------------------------------------------------------------------ make_feed
def test_make_feed_shards_for_its_role_unshuffled():
    strategy = Solo()
    feed, n = data.make_feed(
        np.zeros((5, 2)), batch_size=2, steps=2, device=CPU, strategy=strategy, role="predict"
    )
    assert strategy.calls == [("shard", "predict")] and n is None
    assert not feed.source.shuffle and feed.steps() == 2 and len(list(feed.epoch(None))) == 2
    assert feed.source.x.dtype == torch.float32  # float64 -> float32, as Keras


def test_make_feed_for_train_on_batch_is_not_sharded():
    strategy = Solo()
    x, y = _arrays(4)
    weights = {0: 2.0, 1: 1.0, 2: 1.0}
    feed, _ = data.make_feed(
        x,
        y,
        batch_size=4,
        device=CPU,
        strategy=strategy,
        role="train_on_batch",
        class_weight=weights,
    )
    assert strategy.calls == []
    [(_, yb, wb)] = feed.epoch(None, 1)
    assert torch.equal(wb, torch.where(yb == 0, 2.0, 1.0))


def test_make_feed_rejects_unknown_roles():
    with pytest.raises(ValueError, match="Received: role='test'"):
        data.make_feed(np.zeros(2), batch_size=1, device=CPU, strategy=Solo(), role="test")


# ------------------------------------------------------------------ options and placement
def test_loader_kwargs():
    assert data.loader_kwargs(0, None, True, None, CPU) == {"num_workers": 0, "pin_memory": False}
    kw = data.loader_kwargs(2, True, True, 4, torch.device("cuda"))
    expected = {"num_workers": 2, "pin_memory": True, "persistent_workers": True}
    assert kw == {**expected, "prefetch_factor": 4}
    assert data.loader_kwargs(0, None, False, None, torch.device("cuda"))["pin_memory"]
    with pytest.raises(ValueError, match="Received: num_workers=-1"):
        data.loader_kwargs(-1, None, False, None, CPU)
    with pytest.raises(ValueError, match="Received: prefetch_factor=0"):
        data.loader_kwargs(1, None, False, 0, CPU)


def test_loader_kwargs_reach_the_dataloader_of_a_dataset():
    kw = data.loader_kwargs(0, False, False, None, CPU)
    train, _ = _sources(TensorDataset(*_arrays()), loader_kwargs={**kw, "drop_last": True})
    assert train.source.loader.drop_last and train.steps() == 2


def test_data_on_device_is_checked_and_cpu_data_stays():
    with pytest.raises(ValueError, match="Received: data_on_device='yes'"):
        _sources(*_arrays(), data_on_device="yes")
    train, _ = _sources(*_arrays(), data_on_device=True)
    assert train.source.x.device == CPU


def test_keep_on_device_auto_is_under_a_gibibyte():
    source = data.adapt(torch.zeros(4, 2), torch.zeros(4))
    assert data.keep_on_device(source, "auto") and not data.keep_on_device(source, False)
    assert data.nbytes(source.x, source.y, None) == 48  # 8 + 4 float32s


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_feeds_place_arrays_and_prefetch_loaders():
    cuda = torch.device("cuda", torch.cuda.current_device())
    x, y = _arrays(10)
    train, _ = data.make_sources(x, y, batch_size=4, device=cuda, strategy=Solo())
    assert train.source.x.device == cuda and train.resident()
    assert all(b[0].device == cuda for b in train.epoch(0))
    cpu_kept, _ = data.make_sources(
        x, y, batch_size=4, device=cuda, strategy=Solo(), data_on_device=False
    )
    assert isinstance(cpu_kept.batches(), data.CudaPrefetcher)
    user_loader = DataLoader(TensorDataset(x, y), batch_size=4)
    loader, _ = data.make_sources(user_loader, batch_size=None, device=cuda, strategy=Solo())
    got = list(loader.epoch(0))
    assert len(got) == 3 and all(b[0].device == cuda for b in got)
    torch.cuda.synchronize()
    assert torch.equal(torch.cat([b[0] for b in got]).cpu(), x)
