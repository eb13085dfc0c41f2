"""Find every SQL call (execute, executemany, copy, ...) whose SQL text is built at run time.

A call site is "dynamic" when its SQL argument is an f-string, a `%` or `+`
expression, a `.format()` call, or a name bound to one of those in the same
function. tests/test_sql_injection.py compares what this finds with the
reviewed list in tests/sql_dynamic_sites.txt.
"""
from __future__ import annotations

import ast
from pathlib import Path

SQL_METHODS = {"execute", "executemany", "copy", "stream", "mogrify"}


def _composed(node: ast.AST) -> bool:
    """psycopg.sql composition (sql.SQL(...).format(sql.Identifier(...))): quoted by psycopg, safe by construction."""
    has_sql = any(isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "sql"
                  and n.attr in ("SQL", "Identifier", "Literal", "Composed") for n in ast.walk(node))
    return has_sql and not any(isinstance(n, ast.JoinedStr) for n in ast.walk(node))


def _dynamic(node: ast.AST) -> str | None:
    """The interpolated names of a run-time-built string expression, or None if it is not one."""
    if _composed(node):
        return None
    if isinstance(node, ast.JoinedStr):
        return ", ".join(sorted({ast.unparse(v.value) for v in node.values if isinstance(v, ast.FormattedValue)}))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Mod, ast.Add)):
        return ast.unparse(node)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return ast.unparse(node)
    inner = [n for n in ast.walk(node) if isinstance(n, ast.JoinedStr)]  # sql.SQL(f"...") defeats composition
    return "; ".join(filter(None, (_dynamic(n) for n in inner))) if inner else None


def dynamic_sites(roots: list[Path], base: Path) -> dict[str, str]:
    """'path:function:method' -> the interpolated expressions, for every dynamic SQL call under `roots`."""
    found: dict[str, str] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(), filename=str(path))
            for function in [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]:
                built = {}
                for node in ast.walk(function):
                    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                        names = _dynamic(node.value)
                        if names is not None:
                            built[node.targets[0].id] = names
                    elif (isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add)
                          and isinstance(node.target, ast.Name) and not _composed(node.value)):
                        built[node.target.id] = "; ".join(filter(None, [built.get(node.target.id),
                                                                        ast.unparse(node.value)]))
                for node in ast.walk(function):
                    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                            and node.func.attr in SQL_METHODS and node.args):
                        continue
                    sql = node.args[0]
                    names = _dynamic(sql)
                    if names is None and isinstance(sql, ast.Name) and sql.id in built:
                        names = built[sql.id]
                    if names is not None:
                        site = f"{path.relative_to(base)}:{function.name}:{node.func.attr}"
                        found[site] = "; ".join(filter(None, [found.get(site), names]))
    return found
