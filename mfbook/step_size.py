"""Gradient descent against gradient flow: the largest stable step size at a critical point.

Gradient descent :math:`\\theta_{s+1} = \\theta_s - \\eta\\nabla R_S(\\theta_s)` near a critical point
:math:`\\theta_c` with Hessian :math:`H = \\nabla^2 R_S(\\theta_c)` is, to first order in the deviation
:math:`\\delta_s = \\theta_s - \\theta_c`, the linear map :math:`\\delta_{s+1} = (I - \\eta H)\\delta_s`:
the component along an eigenvector of :math:`H` with eigenvalue :math:`\\lambda` is multiplied by
:math:`1 - \\eta\\lambda` at every step. At a minimum (:math:`H \\succeq 0`) no component grows iff

.. math:: \\eta\\,\\lambda_{\\max}(H) \\le 2, \\qquad\\text{i.e.}\\qquad \\eta \\le \\eta_{\\max} = \\frac{2}{\\lambda_{\\max}(H)}

(strictly below, the components with :math:`\\lambda > 0` decay; the flat directions,
:math:`\\lambda = 0`, neither grow nor decay). A strict saddle is unstable for every :math:`\\eta > 0`.

Explained in: chapter 4 (Training dynamics, "Gradient descent and gradient flow: the step size").
"""
from __future__ import annotations

import numpy as np

from .completion import as_completion
from .factorization import hessian
from .manifolds import balanced_factors

__all__ = ["sharpness", "path_sharpness"]


def sharpness(W, problem, width: int | None = None) -> float:
    """:math:`\\lambda_{\\max}(\\nabla^2 R_S)` at the balanced factors of ``W``.

    The factors are :math:`A = U_r\\Sigma_r^{1/2}`, :math:`B = \\Sigma_r^{1/2}V_r^\\top` padded with zeros
    to ``width`` (:func:`mfbook.manifolds.balanced_factors`), the factors that the flow from a small
    initialization reaches (it conserves :math:`A^\\top A - BB^\\top \\approx 0`).

    Parameters
    ----------
    W : array_like, shape (d1, d2)
        A matrix, typically a critical point of the limit path (``small_init_limit(...).saddles[k].W``).
    problem : Completion or str
        The completion problem whose loss :math:`R_S` is differentiated.
    width : int, optional
        Hidden width :math:`d` (default :math:`\\max(d_1, d_2)`), at least the rank of ``W``.

    Returns
    -------
    float
        The largest eigenvalue of the Hessian; ``2 / sharpness`` is the largest stable step size there.

    Explained in: chapter 4 (Training dynamics, the step size).
    """
    problem = as_completion(problem)
    W = np.asarray(W, dtype=float)
    if W.shape != problem.shape:
        raise ValueError(f"W has shape {W.shape}, the problem {problem.shape}")
    if not np.all(np.isfinite(W)):
        raise ValueError("W must be finite")
    if width is not None and (isinstance(width, bool) or not isinstance(width, (int, np.integer))):
        raise TypeError(f"width must be an integer, got {width!r}")
    d = max(problem.shape) if width is None else int(width)
    if d < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    A, B = balanced_factors(W, d=d)
    return float(np.linalg.eigvalsh(hessian(A, B, problem.values, problem.mask)).max())


def path_sharpness(limit, width: int | None = None) -> dict:
    """The sharpness :math:`\\lambda_{\\max}(H)` and the stable step bound :math:`2/\\lambda_{\\max}(H)` at
    every critical point of a limit path (the origin, each plateau, the final minimum).

    Parameters
    ----------
    limit : LimitResult
        The result of :func:`mfbook.small_init_limit`.
    width : int, optional
        Hidden width (default :math:`\\max(d_1, d_2)`).

    Returns
    -------
    dict
        ``rank``, ``loss``, ``lambda_max`` and ``lr_max`` (arrays, one entry per critical point, in
        the order the path visits them).

    Explained in: chapter 4 (Training dynamics, the step size).
    """
    if not hasattr(limit, "saddles") or not hasattr(limit, "problem"):
        raise TypeError(f"limit must be a LimitResult of small_init_limit, got {type(limit).__name__}")
    lam = np.array([sharpness(s.W, limit.problem, width) for s in limit.saddles])
    return {"rank": np.array([s.rank for s in limit.saddles]),
            "loss": np.array([s.loss for s in limit.saddles]),
            "lambda_max": lam, "lr_max": 2.0 / lam}
