"""Which app may import which: monitoring is the base the others build on, never the reverse.

explain and ops may use monitoring (models, selectors, services, charts); monitoring imports
neither (they add sections to its pages through monitoring.views.sections); explain does not
import ops. Function-level imports count too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"monitoring": {"explain", "ops", "alerts"}, "explain": {"ops"}}


def imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_app_does_not_import_the_apps_built_on_it(app):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_apps(path) & FORBIDDEN[app])
        for path in sorted((ROOT / app).rglob("*.py"))
    }
    assert {path: apps for path, apps in offenders.items() if apps} == {}


def test_the_check_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from explain import charts\n    import ops.views\n")
    assert imported_apps(module) == {"explain", "ops"}
