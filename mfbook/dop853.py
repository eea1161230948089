"""The Dormand-Prince 8(5,3) Runge-Kutta method: its published coefficients.

Dormand & Prince's eighth-order pair with the fifth- and third-order error estimators, as in
Hairer, Norsett & Wanner, *Solving Ordinary Differential Equations I* (2nd ed., 1993), sec. II.10,
and their Fortran code DOP853 (the method behind ``scipy.integrate.solve_ivp(method="DOP853")``).
One step of size :math:`h` from :math:`y` with the autonomous right-hand side :math:`f` is

.. math:: k_i = f\\Big(y + h \\sum_{j<i} a_{ij} k_j\\Big),\\quad i = 1..12, \\qquad
          y_{\\text{new}} = y + h \\sum_i b_i k_i ,

and the error estimate combines :math:`\\sum_i e^{(5)}_i k_i` and :math:`\\sum_i e^{(3)}_i k_i`
(Hairer's "stiffness-aware" norm: :math:`\\|e_5\\|^2 / \\sqrt{\\|e_5\\|^2 + 0.01\\|e_3\\|^2}`).
The numbers are the double-precision values of the published coefficients;
``tests/test_dop853.py`` checks the order conditions they must satisfy.

Used by the compiled integrator of :mod:`mfbook._kernel` (the limit's transits and
:func:`mfbook.gradient_flow`).

Explained in: chapter 4 (Training dynamics), where the transits are integrated.
"""
import numpy as np

__all__ = ["STAGES", "A", "B", "C", "E3", "E5", "ORDER", "TABLEAU"]

#: number of stages of one step (a 13th evaluation, f at the new point, gets weight 0 in E3, E5)
STAGES = 12
#: order of the method: the step-size rule uses the exponent 1 / ORDER
ORDER = 8


#: nodes :math:`c_i` (the right-hand sides here are autonomous: only the order conditions use them)
C = np.array([
    0.0, 0.05260015195876773, 0.0789002279381516, 0.1183503419072274, 0.2816496580927726,
    0.3333333333333333, 0.25, 0.3076923076923077, 0.6512820512820513, 0.6, 0.8571428571428571, 1.0,
])

#: weights :math:`b_i` of the eighth-order solution
B = np.array([
    0.054293734116568765, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003,
    -5.801203960010585, 0.3111643669578199, -0.1521609496625161, 0.20136540080403034,
    0.04471061572777259,
])

#: fifth-order error estimator :math:`e^{(5)}_i`; entry 13 weighs :math:`f(y_{new})`, with 0
E5 = np.array([
    0.01312004499419488, 0.0, 0.0, 0.0, 0.0, -1.2251564463762044, -0.4957589496572502,
    1.6643771824549864, -0.35032884874997366, 0.3341791187130175, 0.08192320648511571,
    -0.022355307863886294, 0.0,
])

#: third-order error estimator :math:`e^{(3)}_i` (13 entries, as ``E5``)
E3 = np.array([
    -0.18980075407240762, 0.0, 0.0, 0.0, 0.0, 4.450312892752409, 1.8915178993145003,
    -5.801203960010585, -0.4226823213237919, -0.1521609496625161, 0.20136540080403034,
    0.02265179219836082, 0.0,
])

#: the stage matrix :math:`a_{ij}` (strictly lower triangular), row by row
_ROWS = [
    [],
    [0.05260015195876773,],
    [0.0197250569845379, 0.0591751709536137,],
    [0.02958758547680685, 0.0, 0.08876275643042054,],
    [0.2413651341592667, 0.0, -0.8845494793282861, 0.924834003261792,],
    [0.037037037037037035, 0.0, 0.0, 0.17082860872947386, 0.12546768756682242,],
    [0.037109375, 0.0, 0.0, 0.17025221101954405, 0.06021653898045596, -0.017578125,],
    [0.03709200011850479, 0.0, 0.0, 0.17038392571223998, 0.10726203044637328,
     -0.015319437748624402, 0.008273789163814023,],
    [0.6241109587160757, 0.0, 0.0, -3.3608926294469414, -0.868219346841726, 27.59209969944671,
     20.154067550477894, -43.48988418106996,],
    [0.47766253643826434, 0.0, 0.0, -2.4881146199716677, -0.590290826836843, 21.230051448181193,
     15.279233632882423, -33.28821096898486, -0.020331201708508627,],
    [-0.9371424300859873, 0.0, 0.0, 5.186372428844064, 1.0914373489967295, -8.149787010746927,
     -18.52006565999696, 22.739487099350505, 2.4936055526796523, -3.0467644718982196,],
    [2.273310147516538, 0.0, 0.0, -10.53449546673725, -2.0008720582248625, -17.9589318631188,
     27.94888452941996, -2.8589982771350235, -8.87285693353063, 12.360567175794303,
     0.6433927460157636,],
]

A = np.zeros((STAGES, STAGES))
for _i, _row in enumerate(_ROWS):
    A[_i, :_i] = _row

#: the arrays as the compiled integrator takes them (contiguous, 12 stages)
TABLEAU = {"stages": STAGES, "A": np.ascontiguousarray(A), "B": B, "E3": E3, "E5": E5,
           "expo": 1 / ORDER}
