"""test_bench_readme.py: the results committed in bench/README.md are a
full run's; `make bench BENCH_QUICK=1` (and the partial runs) never
rewrite them.

The bench itself is not run: bench/run.py's main() runs with its
measurements replaced by stand-ins that return nothing, against a copy of
bench/README.md, so that only its decision to write or not is tested."""
import importlib.util
import os
import shutil
import sys
import types

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "bench")


@pytest.fixture
def bench(monkeypatch, tmp_path):
    """bench/run.py as a module, its README a copy in tmp_path, its work
    stand-ins that measure and count nothing."""
    monkeypatch.syspath_prepend(BENCH)
    for name in ("BENCH_QUICK", "BENCH_REPS", "MICROPYTHON", "BUILD"):
        monkeypatch.delenv(name, raising=False)
    # By path and under a name of its own: tests/conformance has a run.py
    # that other tests import as "run".
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    counters, report = run.counters, run.report
    shutil.copy(os.path.join(BENCH, "README.md"), tmp_path / "README.md")
    present = types.SimpleNamespace(missing=None)
    monkeypatch.setattr(run, "BENCH_DIR", str(tmp_path))
    monkeypatch.setattr(run, "discover", lambda build, mp: {
        "plain": present, "capi": present, "peer": present})
    monkeypatch.setattr(run, "has_uselect", lambda build: True)
    monkeypatch.setattr(run, "build", lambda impls, quick, missing: [])
    monkeypatch.setattr(run, "measure", lambda workloads, reps: {})
    monkeypatch.setattr(counters, "count_all", lambda *a, **k: {})
    monkeypatch.setattr(report, "write_plot", lambda result, path: None)
    return run, tmp_path


def run_main(run, tmp_path, monkeypatch, *argv, env=None):
    for k, v in (env or {}).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(sys, "argv", ["run.py", "--results", str(tmp_path / "results"),
                                      *argv])
    before = (tmp_path / "README.md").read_bytes()
    run.main()
    return before, (tmp_path / "README.md").read_bytes()


def test_a_full_run_rewrites_the_results(bench, monkeypatch):
    # The control: without it, the quick-run tests below could pass because
    # main() never writes at all.
    run, tmp = bench
    before, after = run_main(run, tmp, monkeypatch)
    assert after != before
    assert b"Run " in after.split(b"bench-results:begin")[1]


@pytest.mark.parametrize("how", [
    {"env": {"BENCH_QUICK": "1"}},  # what `make bench BENCH_QUICK=1` passes
    {"argv": ["--quick"]},
])
def test_a_quick_run_leaves_the_readme_untouched(bench, monkeypatch, capsys, how):
    run, tmp = bench
    before, after = run_main(run, tmp, monkeypatch, *how.get("argv", []), env=how.get("env"))
    assert after == before
    assert "bench/README.md left as it is (a quick run" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["--only", "pingpong"], ["--no-times"],
                                  ["--no-counts"], ["--no-readme"]])
def test_a_partial_run_leaves_the_readme_untouched(bench, monkeypatch, argv):
    run, tmp = bench
    before, after = run_main(run, tmp, monkeypatch, *argv)
    assert after == before


def test_update_readme_refuses_a_quick_runs_tables(tmp_path):
    sys.path.insert(0, BENCH)
    try:
        import report
    finally:
        sys.path.remove(BENCH)
    readme = tmp_path / "README.md"
    readme.write_text("intro\n%s\nold figures\n%s\n" % (report.BEGIN, report.END))
    before = readme.read_text()
    assert report.update_readme(str(readme), "smoke figures", {"quick": True}) is False
    assert readme.read_text() == before
    assert report.update_readme(str(readme), "full figures", {"quick": False}) is True
    assert readme.read_text() == "intro\n%s\nfull figures\n%s\n" % (report.BEGIN, report.END)


def test_the_echo_workloads_run_more_repetitions_with_c_beside_usocket(monkeypatch):
    # bench/run.py as it is (the fixture above stubs its measuring out).
    monkeypatch.syspath_prepend(BENCH)
    spec = importlib.util.spec_from_file_location("bench_run", os.path.join(BENCH, "run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    import workloads
    # Plain C runs right after usocket in a repetition's rotation.
    kinds = workloads.ECHO_SERVERS
    assert kinds.index("c") == kinds.index("usocket") + 1
    calls = []

    def variant(key):
        def once():
            calls.append(key)
            return float(len(calls))
        return workloads.Variant(key, key, types.SimpleNamespace(missing=None), once)

    echo = workloads.Workload("echo-7", "echo", "k/s", 1e3, True,
                              [variant("usocket"), variant("c")],
                              [("usocket", "c")], reps=workloads.ECHO_REPS)
    other = workloads.Workload("no-goal", "other", "k/s", 1e3, True,
                               [variant("plain")], [])
    raw = run.measure([echo, other], 3)
    assert len(raw["echo-7"]["usocket"]["values"]) == 3 * workloads.ECHO_REPS
    assert len(raw["echo-7"]["c"]["values"]) == 3 * workloads.ECHO_REPS
    assert len(raw["no-goal"]["plain"]["values"]) == 3
    meta = {"date": "d", "machine": "m", "cpus": "2 CPUs", "reps": 3,
            "quick": False, "load_before": "0", "load_after": "0"}
    result = run.report.analyse([echo, other], raw, {}, meta)
    assert [w["reps"] for w in result["workloads"]] == [3 * workloads.ECHO_REPS, 3]
    first = run.report.tables(result).splitlines()[0]
    assert "3 repetitions (%d of echo-7)," % (3 * workloads.ECHO_REPS) in first
