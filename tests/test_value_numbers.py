"""The creation numbers of `Value` nodes (`_seq`), given when first asked for and kept in a
table beside the nodes (`minigrad.value._NumberTable`): weakly, by identity, with the
entries of dead nodes swept out in bulk rather than by a callback per node."""

from __future__ import annotations

import gc

import minigrad as mg
from minigrad import value as value_module


def test_the_table_does_not_grow_with_nodes_that_are_gone():
    table = value_module._numbers
    for _ in range(5):
        x = mg.Value(0.5)
        nodes = [x * 2.0 + 1.0 for _ in range(4000)]
        for node in nodes:
            node._seq  # noqa: B018 (numbers each node and its constants)
        del nodes, x
        gc.collect()
    # ~60,000 nodes were numbered and dropped; a sweep runs when the table has doubled.
    assert len(table) <= 2 * max(4096, table._sweep_at)


def test_a_new_node_at_a_dead_nodes_address_gets_its_own_number():
    a, b = mg.Value(1.0), mg.Value(2.0)
    dead = {}
    for _ in range(200):
        node = a * b
        dead[id(node)] = node._seq
        del node
    reused = 0
    for _ in range(2000):
        node = a + b
        if id(node) in dead:
            reused += 1
            number = node._seq
            assert number != dead[id(node)]  # not the old node's entry
            assert number > a._seq and number > b._seq  # after its parents, as required
        if reused >= 5:
            break
    assert reused >= 1  # CPython reuses the memory of freed nodes: the case was exercised


def test_numbers_grow_from_parents_to_children_across_a_sweep():
    x = mg.Value(0.3)
    chain = x
    for i in range(3 * 4096):  # enough numbered nodes to make the table sweep on the way
        chain = (chain * 0.5 + 0.25) if i % 2 else chain.tanh()
        if i % 997 == 0:
            chain._seq  # noqa: B018 (number part of the chain early, the rest later)
    top = chain
    node = top
    while node._a is not None:
        assert node._seq > node._a._seq and (node._b is None or node._seq > node._b._seq)
        node = node._a
    assert node is x
