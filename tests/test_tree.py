"""kerasish.tree: map_structure, flatten, is_nested, first_leaf over nested data."""

from __future__ import annotations

from collections import OrderedDict, namedtuple

import pytest
import torch

from kerasish import tree

Pair = namedtuple("Pair", "a b")


def test_map_structure_keeps_the_shape_and_container_types():
    data = {"x": (1, [2, 3]), "y": Pair(4, None), "z": None}
    out = tree.map_structure(lambda v: v * 10, data)
    assert out == {"x": (10, [20, 30]), "y": Pair(40, None), "z": None}
    assert type(out["x"]) is tuple and type(out["x"][1]) is list
    assert type(out["y"]) is Pair


def test_map_structure_on_a_leaf_and_on_none():
    assert tree.map_structure(lambda v: v + 1, 1) == 2
    assert tree.map_structure(lambda v: 1 / 0, None) is None


def test_mappings_become_plain_dicts_in_key_order():
    out = tree.map_structure(str, OrderedDict([("b", 1), ("a", 2)]))
    assert type(out) is dict and list(out) == ["b", "a"]


def test_strings_and_tensors_are_leaves():
    t = torch.arange(3)
    assert tree.flatten(["ab", t]) == ["ab", t]
    assert not tree.is_nested("ab") and not tree.is_nested(t)


def test_map_structure_over_several_structures():
    out = tree.map_structure(lambda a, b: a + b, {"k": [1, 2]}, {"k": [10, 20]})
    assert out == {"k": [11, 22]}
    first, second = Pair(torch.ones(1), torch.zeros(2)), Pair(torch.ones(2), torch.zeros(1))
    cat = tree.map_structure(lambda *ts: torch.cat(ts), first, second)
    assert type(cat) is Pair and cat.a.shape == (3,) and cat.b.shape == (3,)


@pytest.mark.parametrize(
    "a, b",
    [((1, 2), (1, 2, 3)), ({"a": 1}, {"b": 1}), ((1,), 1), (None, (1,))],
)
def test_map_structure_rejects_different_shapes(a, b):
    with pytest.raises(ValueError, match="Expected structures of the same shape. Received:"):
        tree.map_structure(lambda *v: v, a, b)


def test_flatten_is_depth_first_and_skips_none():
    assert tree.flatten({"a": [1, (2, None)], "b": Pair(3, {"c": 4})}) == [1, 2, 3, 4]
    assert tree.flatten(None) == [] and tree.flatten(5) == [5] and tree.flatten([]) == []


def test_is_nested():
    assert tree.is_nested((1,)) and tree.is_nested([]) and tree.is_nested({})
    assert tree.is_nested(Pair(1, 2))
    assert not tree.is_nested(None) and not tree.is_nested(1.0)


def test_first_leaf_matches_flatten():
    for s in [7, ({"a": None, "b": 7}, 8), [None, [], (None, 3)], Pair(None, [4, 5])]:
        assert tree.first_leaf(s) == tree.flatten(s)[0]
    assert tree.first_leaf(None) is None and tree.first_leaf([None, {}]) is None


def test_map_structure_calls_fn_once_per_leaf():
    calls = []
    tree.map_structure(calls.append, (torch.ones(1), torch.ones(2), None))
    assert len(calls) == 2
