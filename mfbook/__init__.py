"""mfbook: the solvers behind the book "Implicit Regularization in Matrix Factorization".

Chapters tell the story and call these functions; every public function's docstring names the
chapter that explains it.
"""
from .completion import Completion, as_completion
from .connectivity import Component, Connectivity, connectivity, observation_graph, observation_matrix
from .factorization import hessian, init_factors, loss_gradient, product
from .references import BestRankK, best_rank_k, min_frobenius, min_nuclear_norm, min_rank, nuclear_norm
from .rank import numerical_rank
from .limit import small_init_limit, small_init_limit_batch
from .saddle_to_saddle import LimitResult, Saddle, saddle_to_saddle
from .training import (DivergenceError, Trajectory, gradient_descent, gradient_descent_batch, gradient_flow,
                       precise_gradient_flow)

from .plotting import set_style

from . import deep, manifolds, neurons, plotting, sensing, sweep, widgets

__version__ = "0.1.0"
