"""Falsification tests of chapter 2's claim checks (C11-C14): each check fails on wrong science."""
import dataclasses
import pathlib

import numpy as np
import pytest
from conftest import refutes

import mfbook
from mfbook import sweep
from mfbook.claims import connectivity as check

ZERO = mfbook.Completion.parse("0 1; 2 *")
GRAPH = mfbook.Completion.parse("0 1 *; 2 * *")
FILLS = {1e-3: 0.20642, 1e-6: 0.02734, 1e-9: 0.00361}      # gradient flow on ZERO (chapter 2)
EXAMPLES = {"M1": "1 2 *; 3 * *; * * 5", "M2": "1 2 *; 3 4 *; * * 5", "M3": "1 2 *; 3 4 *; 6 * 5"}


def _c11(**wrong):
    ev = dict(problem=ZERO, P=mfbook.observation_matrix(ZERO), kind=mfbook.connectivity(ZERO).kind,
              graph_problem=GRAPH, vertices=mfbook.observation_graph(GRAPH).nodes, fills=FILLS)
    ev.update(wrong)
    return check.observed_zero_is_not_an_edge(**ev, quiet=True)


def test_observed_zero_check_passes_on_the_definition():
    assert abs(_c11()["exponent"] - (1 - 2 ** -0.5)) < 0.01


def test_observed_zero_refuted_by_counting_zeros_as_edges():
    with refutes(check.observed_zero_is_not_an_edge):
        _c11(P=ZERO.mask.astype(int), kind="connected")


def test_observed_zero_refuted_by_keeping_isolated_vertices():
    with refutes(check.observed_zero_is_not_an_edge):
        _c11(vertices=list(mfbook.observation_graph(GRAPH).nodes) + [("c", 2)])


def test_observed_zero_refuted_by_a_large_initialization():
    fills = {a: mfbook.gradient_flow(ZERO, init_scale=a, seed=0).W[1, 1] for a in (1.0, 0.5, 0.25)}
    with refutes(check.observed_zero_is_not_an_edge):
        _c11(fills=fills)


def test_paper_examples_refuted_by_a_shuffled_mask():
    problems = {k: mfbook.Completion.parse(t) for k, t in EXAMPLES.items()}
    kinds = {k: mfbook.connectivity(q) for k, q in problems.items()}
    check.paper_examples_classified(problems=problems, kinds=kinds, quiet=True)
    rng = np.random.default_rng(0)
    M3 = problems["M3"]
    shuffled = mfbook.Completion.from_arrays(M3.values, rng.permutation(M3.mask.ravel()).reshape(3, 3))
    while mfbook.connectivity(shuffled).kind == "connected":
        shuffled = mfbook.Completion.from_arrays(M3.values, rng.permutation(M3.mask.ravel()).reshape(3, 3))
    wrong = {**problems, "M3": shuffled}
    with refutes(check.paper_examples_classified):
        check.paper_examples_classified(problems=wrong, kinds={k: mfbook.connectivity(q) for k, q in wrong.items()},
                                        quiet=True)


def _rows(fill):
    rows = {}
    for name, text in EXAMPLES.items():
        q = mfbook.Completion.parse(text)
        W = fill(q)
        rows[name] = dict(learned_rank=int(mfbook.numerical_rank(W)), learned_nuc=mfbook.nuclear_norm(W),
                          min_rank=mfbook.min_rank(q)[0], min_nuc=mfbook.nuclear_norm(mfbook.min_nuclear_norm(q)))
    return rows


@pytest.mark.parametrize("fill", [mfbook.min_nuclear_norm, lambda q: mfbook.min_rank(q)[1],
                                  mfbook.min_frobenius], ids=["min-nuclear", "min-rank", "min-frobenius"])
def test_three_examples_refuted_by_a_reference_in_place_of_training(fill):
    rows = _rows(fill)
    ranks = {k: np.full(10, r["learned_rank"]) for k, r in rows.items()}
    with refutes(check.three_examples_rank_versus_nuclear):
        check.three_examples_rank_versus_nuclear(rows=rows, trained_ranks=ranks, quiet=True)


TREE = mfbook.Completion.parse("* -0.287 -0.675 *; * * * 0.763; * -0.024 * -0.018; * * -0.729 *")


@pytest.fixture(scope="module")
def tree_evidence():
    stage = sweep.omega_k_stage(TREE, 1)
    start = int(np.argmax(stage["sv"][:, 0] >= 0.5 * stage["sv"][-1, 0]))
    eps = np.array([1e-4, 1e-7, 1e-10])
    exits = sweep.seeded_exit_times(TREE, stage, eps, start)
    ranks = {a: np.full(10, 2) for a in (1e-6, 1e-10)}
    return dict(min_rank=1, stage=stage, start=start, eps=eps, exit_times=exits, trained_ranks=ranks)


def test_slow_stage_check_passes_on_the_tree(tree_evidence):
    out = check.connected_miss_is_a_slow_omega_k_stage(**tree_evidence, quiet=True)
    assert out["log10_threshold_seed"] < -16


def test_slow_stage_refuted_by_rounding_triggered_exits(tree_evidence):
    # if rounding, not the seed, caused the exit, the exit time would not depend on eps
    wrong = {**tree_evidence, "exit_times": np.full(3, tree_evidence["exit_times"].mean())}
    with refutes(check.connected_miss_is_a_slow_omega_k_stage):
        check.connected_miss_is_a_slow_omega_k_stage(**wrong, quiet=True)


def test_slow_stage_refuted_by_an_unfinished_stage(tree_evidence):
    st = tree_evidence["stage"]
    cut = np.searchsorted(st["t"], 1e3)
    short = {key: (v[:cut] if isinstance(v, np.ndarray) and len(v) == len(st["t"]) else v) for key, v in st.items()}
    with refutes(check.connected_miss_is_a_slow_omega_k_stage):
        check.connected_miss_is_a_slow_omega_k_stage(**{**tree_evidence, "stage": short}, quiet=True)


def test_slow_stage_refuted_when_training_finds_the_minimum_rank(tree_evidence):
    wrong = {**tree_evidence, "trained_ranks": {1e-6: np.ones(10, int), 1e-10: np.ones(10, int)}}
    with refutes(check.connected_miss_is_a_slow_omega_k_stage):
        check.connected_miss_is_a_slow_omega_k_stage(**wrong, quiet=True)


@pytest.fixture(scope="module")
def sweeps():
    problems = sweep.sample_problems(ranks=(1, 2, 3), sizes=range(1, 17), repeats=3, seed=0)
    S = sweep.phase_transition(problems=problems, trainer="limit", seed=0)
    R = sweep.phase_transition(problems=problems, init_scale=1e-15, seed=0, references=S)
    return S, R


def _as_learned(S, W):
    return dataclasses.replace(S, W=W, loss=np.zeros(len(S)), learned_rank=mfbook.numerical_rank(W),
                               learned_nuclear=mfbook.nuclear_norm(W))


def test_phase_transition_check_passes_on_the_sweep(sweeps):
    S, R = sweeps
    check.phase_transition_by_class(limit=S, trained={1e-15: R}, quiet=True)


def test_phase_transition_refuted_by_the_min_frobenius_fill(sweeps):
    S, R = sweeps
    zeros = _as_learned(S, np.where(S.mask, S.truth, 0.0))
    with refutes(check.phase_transition_by_class):
        check.phase_transition_by_class(limit=zeros, trained={1e-15: R}, quiet=True)


def test_phase_transition_refuted_by_the_min_nuclear_norm_values(sweeps):
    S, R = sweeps
    wrong = dataclasses.replace(S, learned_nuclear=S.min_nuclear.copy())
    with refutes(check.phase_transition_by_class):
        check.phase_transition_by_class(limit=wrong, trained={1e-15: R}, quiet=True)


def test_phase_transition_refuted_by_the_graph_that_counts_shuffled_classes(sweeps):
    S, R = sweeps
    wrong = dataclasses.replace(S, kind=np.random.default_rng(1).permutation(S.kind))
    with refutes(check.phase_transition_by_class):
        check.phase_transition_by_class(limit=wrong, trained={1e-15: R}, quiet=True)


def test_near_tie_refuted_by_shuffled_misses():
    rng = np.random.default_rng(2)
    ratio = rng.uniform(0, 1, 100)
    hits = {1e-8: ratio < 0.8, 1e-15: ratio < 0.9}            # misses at large ratios: the mechanism
    check.finite_init_misses_at_near_tied_rates(ratio=ratio, hits=hits, quiet=True)
    shuffled = {a: rng.permutation(h) for a, h in hits.items()}
    with refutes(check.finite_init_misses_at_near_tied_rates):
        check.finite_init_misses_at_near_tied_rates(ratio=ratio, hits=shuffled, quiet=True)


FIG1 = pathlib.Path(__file__).resolve().parents[1] / "chapters" / "data" / "fig1.npz"


def _one_run_per_cell(record, seed=0):
    rng = np.random.default_rng(seed)
    cells = record["rank"] * 100 + record["n"]
    return np.array([rng.choice(np.flatnonzero(cells == c)) for c in np.unique(cells)])


@pytest.fixture(scope="module")
def fig1():
    record = sweep.load_record(FIG1)
    live = sweep.rerun_record(record, _one_run_per_cell(record))
    problems = (live.rank, live.n, live.truth, live.mask)
    trained = sweep.phase_transition(problems=problems, init_scale=1e-15, seed=0, references=live)
    return record, live, trained


def test_fig1_shape_check_passes_on_the_stored_sweep(fig1):
    out = check.transition_curves_have_the_papers_shape(*fig1, quiet=True)
    assert all(out[f"crossing_n_rank{r}"] < 2 * r * 4 - r * r for r in (1, 2, 3))


def test_fig1_shape_refuted_by_swapped_fractions(fig1):
    record, live, trained = fig1
    swapped = {**record, "reaches_min_rank": record["reaches_min_nuclear"],
               "reaches_min_nuclear": record["reaches_min_rank"]}
    with refutes(check.transition_curves_have_the_papers_shape):
        check.transition_curves_have_the_papers_shape(swapped, live, trained, quiet=True)


def test_fig1_shape_refuted_by_shuffled_masks(fig1):
    # the positions dealt out to the runs at random (classes moving with them): the connected
    # fraction no longer depends on n, and no longer tracks the outcomes
    record, live, trained = fig1
    perm = np.random.default_rng(3).permutation(record["rank"].size)
    shuffled = {**record, "mask": record["mask"][perm], "kind": record["kind"][perm]}
    with refutes(check.transition_curves_have_the_papers_shape):
        check.transition_curves_have_the_papers_shape(shuffled, live, trained, quiet=True)


def test_fig1_shape_refuted_by_stored_outcomes_the_code_does_not_reproduce(fig1):
    # outcomes shuffled within each (rank, n): the same curves, but not what the code computes per run
    record, live, trained = fig1
    rng = np.random.default_rng(4)
    stale = {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in record.items()}
    for c in np.unique(record["rank"] * 100 + record["n"]):
        idx = np.flatnonzero(record["rank"] * 100 + record["n"] == c)
        for name in ("reaches_min_rank", "reaches_min_nuclear"):
            stale[name][idx] = rng.permutation(record[name][idx])
    with refutes(check.transition_curves_have_the_papers_shape):
        check.transition_curves_have_the_papers_shape(stale, live, trained, quiet=True)


def test_fig1_shape_refuted_by_training_from_a_large_initialization(fig1):
    record, live, trained = fig1
    problems = (live.rank, live.n, live.truth, live.mask)
    large = sweep.phase_transition(problems=problems, init_scale=1.0, lr=0.05, seed=0, references=live)
    with refutes(check.transition_curves_have_the_papers_shape):
        check.transition_curves_have_the_papers_shape(record, live, large, quiet=True)
