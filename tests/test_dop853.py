"""The Dormand-Prince 8(5,3) coefficients written in mfbook satisfy the method's order conditions."""
import numpy as np

from mfbook import dop853 as rk


def test_stage_matrix_is_explicit_and_consistent_with_the_nodes():
    assert np.allclose(np.triu(rk.A), 0.0)
    assert np.allclose(rk.A.sum(axis=1), rk.C, atol=1e-14)        # row sums are the nodes


def test_quadrature_order_conditions_up_to_order_eight():
    # sum_i b_i c_i^(q-1) = 1/q for q = 1..8: the weights integrate polynomials of degree 7 exactly
    for q in range(1, rk.ORDER + 1):
        assert abs(rk.B @ rk.C ** (q - 1) - 1.0 / q) < 1e-13, q


def test_some_tree_conditions_of_orders_three_to_five():
    Ac = rk.A @ rk.C
    assert abs(rk.B @ Ac - 1 / 6) < 1e-13                          # order 3
    assert abs(rk.B @ (rk.C * Ac) - 1 / 8) < 1e-13                 # order 4
    assert abs(rk.B @ (rk.A @ Ac) - 1 / 24) < 1e-13                # order 4
    assert abs(rk.B @ (rk.A @ (rk.A @ Ac)) - 1 / 120) < 1e-13      # order 5


def test_the_error_estimators_vanish_on_constants_and_solve_an_ode_to_eighth_order():
    # the estimators weigh differences of two solutions: on f = const both agree exactly
    assert abs(rk.E5.sum()) < 1e-14 and abs(rk.E3.sum()) < 1e-14

    def step(y, h):                                                # y' = -y, one step
        K = np.zeros(rk.STAGES)
        for i in range(rk.STAGES):
            K[i] = -(y + h * rk.A[i, :i] @ K[:i])
        return y + h * rk.B @ K

    errors = [abs(step(1.0, h) - np.exp(-h)) for h in (0.4, 0.2)]
    assert 2 ** 8.5 < errors[0] / errors[1] < 2 ** 9.5               # local error ~ h^9
