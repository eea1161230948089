"""Falsification tests of chapter 0's claim checks: each check fed wrong science must fail."""
import numpy as np
import pytest
from conftest import refutes

import mfbook
from mfbook.claims import pipeline as check

M = mfbook.Completion.parse("1 2; 10 *")
SEEDS = range(10)


@pytest.fixture(scope="module")
def flows():
    scales = [1e-1, 1e-3, 1e-6, 1e-12]
    runs = {a: [mfbook.gradient_flow(M, init_scale=a, seed=k).W for k in SEEDS] for a in scales}
    return scales, runs


@pytest.fixture(scope="module")
def limit():
    return mfbook.small_init_limit(M).W


def test_flow_fill_holds_on_right_evidence(flows, limit):
    scales, runs = flows
    fills = np.array([[W[1, 1] for W in runs[a]] for a in scales])
    check.flow_fill_tends_to_twenty(scales=scales, learned=fills, limit=limit, quiet=True)


def test_flow_fill_refuted_by_a_large_start(flows, limit):
    scales, runs = flows                 # alpha = 1 everywhere: the fill never approaches 20
    big = np.array([[mfbook.gradient_flow(M, init_scale=1.0 * (1 + 0.1 * s), seed=k).W[1, 1] for k in SEEDS]
                    for s in range(len(scales))])
    with refutes(check.flow_fill_tends_to_twenty):
        check.flow_fill_tends_to_twenty(scales=scales, learned=big, limit=limit, quiet=True)


def test_flow_fill_refuted_by_reversed_scales(flows, limit):
    scales, runs = flows
    fills = np.array([[W[1, 1] for W in runs[a]] for a in scales])
    with refutes(check.flow_fill_tends_to_twenty):
        check.flow_fill_tends_to_twenty(scales=scales[::-1], learned=fills, limit=limit, quiet=True)


def test_min_rank_fill_refuted_by_the_nuclear_completion(flows, limit):
    _, runs = flows
    W_rank, W_nuc, W_fro = mfbook.min_rank(M)[1], mfbook.min_nuclear_norm(M), mfbook.min_frobenius(M)
    check.learned_fill_is_min_rank_not_min_nuclear(problem=M, limit=limit, runs=runs[1e-12], min_rank_W=W_rank,
                                                   nuclear_W=W_nuc, frobenius_W=W_fro, quiet=True)
    with refutes(check.learned_fill_is_min_rank_not_min_nuclear):
        check.learned_fill_is_min_rank_not_min_nuclear(problem=M, limit=W_nuc, runs=[W_nuc] * 10,
                                                       min_rank_W=W_rank, nuclear_W=W_nuc, frobenius_W=W_fro,
                                                       quiet=True)


def test_lowest_rank_refuted_by_large_init_and_by_a_disconnected_pattern(flows):
    _, runs = flows
    check.connected_pattern_learns_lowest_rank(problem=M, kind="connected", runs=runs[1e-12], min_rank=1,
                                               quiet=True)
    with refutes(check.connected_pattern_learns_lowest_rank):   # alpha = 1e-1: rank two
        check.connected_pattern_learns_lowest_rank(problem=M, kind="connected", runs=runs[1e-1], min_rank=1,
                                                   quiet=True)
    with refutes(check.connected_pattern_learns_lowest_rank):   # the observed zero is no edge
        check.connected_pattern_learns_lowest_rank(problem="0 1; 2 *", kind="connected", runs=runs[1e-12],
                                                   min_rank=1, quiet=True)
