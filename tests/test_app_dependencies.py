"""Which app may import which: core is shared by every app and imports none of them; monitoring is
the base the others build on, never the reverse.

explain and ops may use monitoring (models, selectors, services, charts); monitoring imports
neither (they add sections to its pages through monitoring.views.sections); explain does not
import ops. Function-level imports count too.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Every Django app of the project (a top-level folder with an apps.py), so a new app is covered too.
APPS = {path.parent.name for path in ROOT.glob("*/apps.py")}
FORBIDDEN = {"core": APPS - {"core"}, "monitoring": {"explain", "ops", "lifecycle", "alerts"}, "explain": {"ops", "lifecycle"}}


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


def test_core_is_checked_against_every_app():
    assert FORBIDDEN["core"] >= {"monitoring", "explain", "ops"}


def test_the_check_sees_function_level_imports(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from explain import charts\n    import ops.views\n")
    assert imported_apps(module) == {"explain", "ops"}
