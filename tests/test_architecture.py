"""The arrows between apps are the ones the README's layout table draws, and no app reaches
into another app's private names.

Every module of every app (migrations and tests aside) is read with `ast`, so an import
inside a function counts as much as one at the top. The rule lives once, in `MAY_IMPORT`
below; the README table is parsed and must say the same, so the two cannot drift apart.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCT = (
    "organizations",
    "customers",
    "catalog",
    "folders",
    "financing",
    "documents",
    "billing",
    "payments",
    "portal",
    "tickets",
    "reports",
    "dashboard",
)
# Beside the product: they may use every app, and no product app may use them.
BESIDE = ("config", "demo", "bench", "devtools")
APPS = PRODUCT + BESIDE

ANYTHING = "anything"
EVERY_PRODUCT_APP = "every product app"

# What each app may import directly (and, through them, what those may import). Every app
# may also import `organizations`, the shared kit.
MAY_IMPORT: dict[str, set[str] | str] = {
    "config": ANYTHING,
    "organizations": set(),
    "customers": {"organizations"},
    "catalog": {"organizations"},
    "folders": {"customers", "catalog"},
    "financing": {"folders", "customers"},
    "documents": {"folders", "financing"},
    "billing": {"documents", "financing", "folders"},
    "payments": {"documents"},
    "portal": {"payments", "documents", "folders", "customers"},
    "tickets": {"customers", "catalog", "folders", "portal"},
    "reports": EVERY_PRODUCT_APP,
    "dashboard": EVERY_PRODUCT_APP,
    "demo": ANYTHING,
    "bench": ANYTHING,
    "devtools": ANYTHING,
}


def allowed(app: str) -> set[str]:
    rule = MAY_IMPORT[app]
    if rule == ANYTHING:
        return set(APPS)
    if rule == EVERY_PRODUCT_APP:
        return set(PRODUCT)
    reach = {"organizations"}
    todo = list(rule)
    while todo:
        target = todo.pop()
        if target in reach:
            continue
        reach.add(target)
        todo.extend(allowed(target))
    return reach


def modules(app: str):
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if "migrations" in parts or "tests" in parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def imported_apps(tree: ast.AST):
    """(line, app, dotted module) for every absolute import of one of our apps."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in APPS:
                yield node.lineno, top, name


def existing_apps() -> list[str]:
    return [app for app in APPS if (ROOT / app / "__init__.py").exists()]


@pytest.mark.parametrize("app", existing_apps())
def test_it_imports_only_what_the_layout_table_allows(app):
    may = allowed(app) | {app}
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path, tree in modules(app)
        for line, top, module in imported_apps(tree)
        if top not in may
    ]
    assert not wrong, f"{app} may import {sorted(may - {app})} only:\n" + "\n".join(wrong)


def test_it_lets_no_product_app_import_what_stands_beside_it():
    for app in BESIDE:
        assert not any(app in allowed(product) for product in PRODUCT), app


def private_uses(app: str, tree: ast.AST):
    """Private names of another app: imported by name, or read off an imported module."""
    modules_bound: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            top = node.module.split(".")[0]
            if top not in APPS or top == app:
                continue
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    yield node.lineno, f"{node.module}.{alias.name}"
                # `from documents import services` binds a module of another app.
                modules_bound[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in APPS and alias.name.split(".")[0] != app and alias.asname:
                    modules_bound[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in modules_bound
            and node.value.id.islower()
            and node.attr.startswith("_")
            and node.attr != "_meta"
            and not node.attr.startswith("__")
        ):
            yield node.lineno, f"{modules_bound[node.value.id]}.{node.attr}"


@pytest.mark.parametrize("app", existing_apps())
def test_it_uses_no_private_name_of_another_app(app):
    wrong = [
        f"{path.relative_to(ROOT)}:{line} uses {name}"
        for path, tree in modules(app)
        for line, name in private_uses(app, tree)
    ]
    assert not wrong, "give it a public name in the app that owns it:\n" + "\n".join(wrong)


def readme_table() -> dict[str, set[str] | str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Layout", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    table: dict[str, set[str] | str] = {}
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        app = cells[0].strip("`/")
        rule = cells[-1]
        if rule == ANYTHING:
            table[app] = ANYTHING
        elif rule.startswith(EVERY_PRODUCT_APP):
            table[app] = EVERY_PRODUCT_APP
        else:
            table[app] = set(re.findall(r"`(\w+)`", rule))
    return table


def test_it_keeps_the_readme_table_and_this_rule_the_same():
    assert readme_table() == MAY_IMPORT


def test_it_knows_every_app_that_exists():
    installed = {path.parent.name for path in ROOT.glob("*/apps.py")} | {"config"}
    assert installed <= set(APPS), "add the new app to the README layout table and to MAY_IMPORT"


# Methods that change a dict, list or set in place.
MUTATORS = {"update", "setdefault", "pop", "popitem", "clear", "append", "extend", "insert", "add", "remove"}


def _is_constant(expr: ast.expr) -> bool:
    name = expr.attr if isinstance(expr, ast.Attribute) else getattr(expr, "id", "")
    return name.lstrip("_").isupper()


def foreign_writes(app: str, tree: ast.AST):
    """Writes into another app's module state: an item or attribute assigned or deleted on
    a name imported from it, or a module constant of it changed in place."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.split(".")[0] in set(APPS) - {app}:
                bound.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in set(APPS) - {app}:
                    bound.add(alias.asname or alias.name.split(".")[0])

    def rooted(expr: ast.expr) -> bool:
        while isinstance(expr, ast.Attribute | ast.Subscript):
            expr = expr.value
        return isinstance(expr, ast.Name) and expr.id in bound

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.Delete):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        else:
            targets = []
        for target in targets:
            if isinstance(target, ast.Subscript | ast.Attribute) and rooted(target):
                yield node.lineno, ast.unparse(target)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and _is_constant(node.func.value)
            and rooted(node.func.value)
        ):
            yield node.lineno, ast.unparse(node.func)


@pytest.mark.parametrize("app", [app for app in existing_apps() if app in PRODUCT])
def test_it_writes_into_no_module_of_another_app(app):
    """A product app that adds to another app's page, history or numbering calls that app's
    register function (`panel_register`, `history_register`, `numbered_field_register`);
    what stands beside the product (a benchmark configuring Celery) may set anything."""
    wrong = [
        f"{path.relative_to(ROOT)}:{line} changes {name}"
        for path, tree in modules(app)
        for line, name in foreign_writes(app, tree)
    ]
    assert not wrong, "call a register function of the app that owns it:\n" + "\n".join(wrong)
