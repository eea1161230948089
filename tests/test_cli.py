"""The lecturers' command line."""
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "mfbook", *args], capture_output=True, text=True, timeout=120)


def test_complete_prints_limit_and_references():
    out = run("complete", "1 2; 10 *")
    assert out.returncode == 0, out.stderr
    assert "connected" in out.stdout
    assert "20.0000" in out.stdout and "minimum rank 1" in out.stdout
    assert "minimum nuclear norm 12.000000" in out.stdout


def test_a_limit_that_is_not_settled_is_not_printed_as_a_limit():
    """M_tree of chapter 2: a stage of its path crawls (status "not settled"), so the matrix printed
    is labelled as not a limit."""
    out = run("complete", "* -0.287 -0.675 *; * * * 0.763; * -0.024 * -0.018; * * -0.729 *", "--no-convex")
    assert out.returncode == 0, out.stderr
    assert "NOT a limit" in out.stdout and "'not settled'" in out.stdout
    assert "alpha -> 0 limit of gradient flow" not in out.stdout


def test_complete_with_finite_init_and_bad_input():
    out = run("complete", "1 2; 10 *", "--init", "1e-3", "--no-convex")
    assert out.returncode == 0 and "init scale 0.001" in out.stdout
    bad = run("complete", "1 2; 10")
    assert bad.returncode == 2 and "different lengths" in bad.stderr and "Traceback" not in bad.stderr
    deep = run("complete", "1 2; 10 *", "--depth", "3")
    assert deep.returncode == 2 and "--init" in deep.stderr


def test_without_cvxpy_the_cli_says_how_to_get_it_and_exits_0():
    code = ("import sys, importlib.util as u; real = u.find_spec; "
            "u.find_spec = lambda name, *a: None if name == 'cvxpy' else real(name, *a); "
            "from mfbook.__main__ import main; sys.exit(main(['complete', '1 2; 10 *']))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "needs cvxpy" in out.stdout and "mfbook[convex]" in out.stdout and "Traceback" not in out.stderr


def test_bad_options_give_one_line_errors_not_tracebacks():
    for args in (["--init", "1e300"], ["--init", "-1"], ["--init", "nan"], ["--seed", "2e70"],
                 ["--seed", "-3"], ["--depth", "0"], ["--init", "abc"]):
        out = run("complete", "1 2; 10 *", "--no-convex", *args)
        assert out.returncode == 2, (args, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr and "error" in out.stderr, (args, out.stderr)
