"""mfbook: the solvers behind the book "Implicit Regularization in Matrix Factorization".

Chapters tell the story and call these functions; every public function's docstring names the
chapter that explains it.
"""
from .completion import Completion, as_completion
from .connectivity import Component, Connectivity, connectivity, observation_graph, observation_matrix

__version__ = "0.1.0"
