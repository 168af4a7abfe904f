"""The house rules the layout promises: a pure engine, and no import cycles."""

import json
import subprocess
import sys

from tests.import_graph import ROOT, cycles, enqueue_edges, graph, module_name, without

# Pure modules: numpy/scipy only, so they run (and are tested) without Django.
PURE = sorted(
    [module_name(p) for p in (ROOT / "monitoring" / "engine").rglob("*.py")] + ["monitoring.health"]
)


def test_the_engine_and_health_rules_import_without_django():
    script = (
        "import importlib, json, sys\n"
        f"for name in {PURE!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}  # no DJANGO_SETTINGS_MODULE either
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [], "an engine module pulled in Django"
    assert "monitoring.engine.stats.drift" in PURE and "monitoring.engine.window" in PURE


def test_no_import_cycles():
    assert cycles(graph()) == []  # at load time
    # Function-level imports too, except a service enqueuing its own app's task after commit.
    full = graph(functions=True)
    allowed = enqueue_edges(full)
    assert cycles(without(full, allowed)) == []
    assert allowed <= {("monitoring.services.profile", "monitoring.tasks"), ("explain.services", "explain.tasks")}


def test_the_graph_sees_function_level_imports_and_cycles():
    # The checker itself: it must notice what it is there to catch.
    edges = graph(functions=True)
    assert "monitoring.tasks" in edges["monitoring.services.profile"]
    assert "monitoring.tasks" not in graph()["monitoring.services.profile"]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
