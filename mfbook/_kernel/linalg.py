"""Dense linear algebra: small matrices without LAPACK's per-call overhead (one-sided Jacobi SVD up
to ``SVD_JACOBI_MAX``, Cholesky below ``LAPACK_CHOLESKY`` rows, LU solves), larger ones through LAPACK
(Cholesky, eigendecompositions); a pseudo-inverse step, a positive-definiteness test, the numerical
rank, and the balanced factors :math:`A = US^{1/2}, B = S^{1/2}V^\\top` of a matrix.
"""
import numpy as np
from numba import njit


@njit(cache=True)
def _pinv_step(H, g):
    """H^+ g for the symmetric H (as ``numpy.linalg.pinv(H, 1e-10, hermitian=True) @ g``)."""
    w, Q = np.linalg.eigh(H)
    cut = 1e-10 * np.max(np.abs(w))
    c = Q.T @ g
    for q in range(g.size):
        c[q] = c[q] / w[q] if abs(w[q]) > cut else 0.0
    return Q @ c


@njit(cache=True)
def _lu_solve(M, b, min_pivot):
    """Solve M x = b by Gaussian elimination with partial pivoting (M and b are overwritten).
    Returns (x, ok): ok is False when a pivot is at most ``min_pivot`` times the largest entry of M
    (M numerically singular; x is then not computed)."""
    p = b.size
    big = 0.0
    for i in range(p):
        for j in range(p):
            big = max(big, abs(M[i, j]))
    tiny = min_pivot * big
    for k in range(p):
        piv = k
        for i in range(k + 1, p):
            if abs(M[i, k]) > abs(M[piv, k]):
                piv = i
        if not abs(M[piv, k]) > tiny:
            return b, False
        if piv != k:
            for j in range(k, p):
                M[k, j], M[piv, j] = M[piv, j], M[k, j]
            b[k], b[piv] = b[piv], b[k]
        for i in range(k + 1, p):
            f = M[i, k] / M[k, k]
            if f != 0.0:
                for j in range(k + 1, p):
                    M[i, j] -= f * M[k, j]
                b[i] -= f * b[k]
    for k in range(p - 1, -1, -1):
        s = b[k]
        for j in range(k + 1, p):
            s -= M[k, j] * b[j]
        b[k] = s / M[k, k]
    return b, True


@njit(cache=True)
def _sumsq(x, lo, hi):
    """sum of x[lo:hi]**2, in order, without a temporary."""
    s = 0.0
    for q in range(lo, hi):
        s += x[q] * x[q]
    return s


#: from this many rows on, Cholesky runs in LAPACK (measured here, one thread: 0.2 ms against 0.6 ms by
#: the loops below at 200 rows, 20 ms against 180 ms at 1200; below about 100 rows the loops win)
LAPACK_CHOLESKY = 128


@njit(cache=True)
def _cholesky(M, min_pivot):
    """The Cholesky factor of the symmetric M in its lower triangle (M is overwritten); False if a
    pivot is at most ``min_pivot`` times the largest diagonal entry (M not positive definite enough).
    (The pivots are the squared diagonal entries of the factor.)"""
    p = M.shape[0]
    tiny = 0.0
    for q in range(p):
        tiny = max(tiny, M[q, q])
    tiny *= min_pivot
    if p >= LAPACK_CHOLESKY:
        try:
            L = np.linalg.cholesky(M)
        except Exception:        # not positive definite, or not finite
            return False
        for k in range(p):
            if not L[k, k] * L[k, k] > tiny:
                return False
        M[:, :] = L
        return True
    for k in range(p):
        piv = M[k, k]
        for j in range(k):
            piv -= M[k, j] * M[k, j]
        if not piv > tiny:
            return False
        piv = np.sqrt(piv)
        M[k, k] = piv
        for i in range(k + 1, p):
            s = M[i, k]
            for j in range(k):
                s -= M[i, j] * M[k, j]
            M[i, k] = s / piv
    return True


@njit(cache=True)
def _cholesky_solve(L, b):
    """x with L L^T x = b, L from :func:`_cholesky`."""
    p = b.size
    x = b.copy()
    for i in range(p):
        s = x[i]
        for j in range(i):
            s -= L[i, j] * x[j]
        x[i] = s / L[i, i]
    for i in range(p - 1, -1, -1):
        s = x[i]
        for j in range(i + 1, p):
            s -= L[j, i] * x[j]
        x[i] = s / L[i, i]
    return x


@njit(cache=True)
def _solve_symmetric(M, b, min_pivot):
    """(x, ok) with M x = b for the symmetric M: by Cholesky where M is positive definite (about p^3/6
    operations, half of LU), else by LU with partial pivoting; ok is False where a pivot of that is at
    most ``min_pivot`` of the largest entry (M numerically singular). M and b are left as they are."""
    C = M.copy()
    if _cholesky(C, min_pivot):
        return _cholesky_solve(C, b), True
    return _lu_solve(M.copy(), b.copy(), min_pivot)


@njit(cache=True)
def _spectrum_below(H, c):
    """Are all eigenvalues of -H below c > 0 (H + c I positive definite, by Cholesky)? At a saddle of the
    narrow path where the escape into a new inner direction (rate sigma_1(E)) is faster than anything
    in the active block, this settles the active block without its eigenvalues: none reaches the
    cut-off c below the escape rate."""
    if not c > 0.0:
        return False
    M = H.copy()
    for q in range(H.shape[0]):
        M[q, q] += c
    return _cholesky(M, 0.0)


@njit(cache=True)
def _widen(theta, d1, w, d2, wide):
    """The factors in ``theta`` (inner width ``w``) padded to width ``wide`` with zero columns of A
    and zero rows of B."""
    out = np.zeros(d1 * wide + wide * d2)
    for i in range(d1):
        for k in range(w):
            out[i * wide + k] = theta[i * w + k]
    for k in range(w):
        for j in range(d2):
            out[d1 * wide + k * d2 + j] = theta[d1 * w + k * d2 + j]
    return out


@njit(cache=True)
def _product(theta, d1, d, d2):
    """W = A B (also for d = 0)."""
    W = np.zeros((d1, d2))
    pa = d1 * d
    for i in range(d1):
        for k in range(d):
            a = theta[i * d + k]
            for j in range(d2):
                W[i, j] += a * theta[pa + k * d2 + j]
    return W


SVD_JACOBI_MAX = 8   # _svd: one-sided Jacobi up to this size, LAPACK above


@njit(cache=True)
def _svd(M):
    """Thin SVD (U, s, Vt) of M (m x n): s descending, U m x r and Vt r x n, r = min(m, n), with
    orthonormal columns / rows, except that the singular vectors of a zero singular value on the long
    side (columns of U if m >= n, rows of Vt if m < n) are left 0: the limit path only uses the top
    pair, and products weighted by the singular values.

    Up to ``SVD_JACOBI_MAX`` rows and columns by one-sided Jacobi rotations (Hestenes): the columns of
    M (of M^T if it is wide) are rotated in pairs until they are orthogonal to rounding level; their
    norms are the singular values. For the small matrices of the limit path this is several times
    faster than LAPACK through numba (which allocates and queries work space on every call) and as
    accurate (singular values to a few ulps of the largest, measured against LAPACK)."""
    m, n = M.shape
    if max(m, n) > SVD_JACOBI_MAX:
        U, s, Vt = np.linalg.svd(M)
        r = min(m, n)
        return np.ascontiguousarray(U[:, :r]), s, np.ascontiguousarray(Vt[:r, :])
    wide = m < n
    X = M.T.copy() if wide else M.copy()
    if wide:
        m, n = n, m
    V = np.eye(n)
    for _ in range(60):
        rotated = False
        for i in range(n - 1):
            for j in range(i + 1, n):
                a = 0.0
                b = 0.0
                c = 0.0
                for k in range(m):
                    a += X[k, i] * X[k, i]
                    b += X[k, j] * X[k, j]
                    c += X[k, i] * X[k, j]
                if c == 0.0 or abs(c) <= 1e-15 * np.sqrt(a * b):
                    continue
                rotated = True
                zeta = (b - a) / (2.0 * c)
                t = (1.0 if zeta >= 0.0 else -1.0) / (abs(zeta) + np.sqrt(1.0 + zeta * zeta))
                cs = 1.0 / np.sqrt(1.0 + t * t)
                sn = cs * t
                for k in range(m):
                    xi = X[k, i]
                    X[k, i] = cs * xi - sn * X[k, j]
                    X[k, j] = sn * xi + cs * X[k, j]
                for k in range(n):
                    vi = V[k, i]
                    V[k, i] = cs * vi - sn * V[k, j]
                    V[k, j] = sn * vi + cs * V[k, j]
        if not rotated:
            break
    norms = np.empty(n)
    for i in range(n):
        a = 0.0
        for k in range(m):
            a += X[k, i] * X[k, i]
        norms[i] = np.sqrt(a)
    # the columns by decreasing norm: a stable insertion sort (numba's argsort of -norms does the same
    # below 15 entries, NaN last; written out, it compiles in a fraction of the time)
    order = np.empty(n, np.int64)
    for i in range(n):
        order[i] = i
    for i in range(1, n):
        k = order[i]
        v = -norms[k]
        j = i
        while j > 0 and (v < -norms[order[j - 1]] or (np.isnan(norms[order[j - 1]]) and not np.isnan(v))):
            order[j] = order[j - 1]
            j -= 1
        order[j] = k
    U = np.zeros((m, n))
    s = np.empty(n)
    Vt = np.empty((n, n))
    for r in range(n):
        c = order[r]
        s[r] = norms[c]
        for k in range(n):
            Vt[r, k] = V[k, c]
        if norms[c] > 0.0:
            for k in range(m):
                U[k, r] = X[k, c] / norms[c]
    if wide:
        return np.ascontiguousarray(Vt.T), s, np.ascontiguousarray(U.T)
    return U, s, Vt


@njit(cache=True)
def _balanced(theta, d1, w, d2):
    """The balanced factors of W = A B (A^T A = B B^T) nearest to the given ones, at width w.

    Gradient flow conserves A^T A - B B^T, and the limit path starts at 0, so its critical points
    are balanced; Newton steps, which fix W, do not keep the balance. The balanced factorizations
    of W (rank w) are A' = U S^(1/2) O, B' = O^T S^(1/2) V^T (SVD W = U S V^T, O orthogonal); the
    nearest one (least |A' - A|^2 + |B' - B|^2) has O the orthogonal polar factor of
    S^(1/2) (U^T A + V^T B^T). So the factors only lose the small imbalance of the Newton steps and
    keep their orientation (as the flow, which rotates them continuously)."""
    pa = d1 * w
    U, s, Vt = _svd(_product(theta, d1, w, d2))
    k = min(w, s.size)
    A = theta[:pa].copy().reshape(d1, w)
    B = theta[pa:].copy().reshape(w, d2)
    r = np.sqrt(s[:k])
    Us = np.ascontiguousarray(U[:, :k]) * r
    Vs = np.ascontiguousarray(Vt[:k, :].T) * r
    P, _, Qt = _svd(Us.T @ A + Vs.T @ B.T)     # k x w: P k x k, Qt k x w
    O = P @ Qt
    out = np.zeros(theta.size)
    out[:pa] = (Us @ O).ravel()
    out[pa:] = (O.T @ Vs.T).ravel()
    return out


@njit(cache=True)
def _numerical_rank(W):
    """Number of singular values above 1e-6 times the largest (as :func:`mfbook.rank.numerical_rank`)."""
    sv = _svd(W)[1]
    rank = 0
    for s in sv:
        if s > 1e-6 * max(sv[0], 1e-300):
            rank += 1
    return rank
