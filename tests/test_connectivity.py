"""Observation graph and connectivity classes (Definitions 1-3, claims C11, C12)."""
import pytest

from mfbook import connectivity, observation_graph, observation_matrix

M1 = "1 2 *; 3 * *; * * 5"
M2 = "1 2 *; 3 4 *; * * 5"
M3 = "1 2 *; 3 4 *; 6 * 5"


@pytest.mark.parametrize("text, kind", [
    (M1, "disconnected"),
    (M2, "disconnected-complete-bipartite"),
    (M3, "connected"),
    ("1 2; 10 *", "connected"),
    ("0 1; 2 *", "disconnected-complete-bipartite"),
    ("1 * 3; * 5 *; 3 * 9", "disconnected-complete-bipartite"),
    ("0 0; 0 *", "disconnected-complete-bipartite"),
])
def test_slide_examples_are_classified(text, kind):
    assert connectivity(text).kind == kind


def test_zero_observation_is_not_an_edge_and_isolated_vertices_are_removed():
    P = observation_matrix("0 1; 2 *")
    assert P.tolist() == [[0, 1], [1, 0]]
    G = observation_graph("0 1 *; 2 * *")
    assert set(G.nodes) == {("r", 0), ("c", 1), ("r", 1), ("c", 0)}  # column 3 is isolated
    assert G.number_of_edges() == 2


def test_components_list_rows_and_columns():
    conn = connectivity(M2)
    assert [(c.rows, c.cols) for c in conn.components] == [((0, 1), (0, 1)), ((2,), (2,))]
    assert not conn.is_connected and connectivity(M3).is_connected
