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


def test_complete_with_finite_init_and_bad_input():
    out = run("complete", "1 2; 10 *", "--init", "1e-3", "--no-convex")
    assert out.returncode == 0 and "init scale 0.001" in out.stdout
    bad = run("complete", "1 2; 10")
    assert bad.returncode == 2 and "different lengths" in bad.stderr and "Traceback" not in bad.stderr
    deep = run("complete", "1 2; 10 *", "--depth", "3")
    assert deep.returncode == 2 and "--init" in deep.stderr
