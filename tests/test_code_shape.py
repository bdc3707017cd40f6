"""The code's shape (issue 11, "Must show"): small modules with one job, the domain free of the
database driver, the workers free of the web app. Plain file checks: no app, no database."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT_CODE = ("app", "call_flows", "workers", "storage", "bench", "scripts")
MAX_LINES = 300


def _modules() -> list[Path]:
    return sorted(p for top in PROJECT_CODE for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts)


def test_no_module_is_over_300_lines():
    assert len(_modules()) > 100  # the walk found the project, not an empty folder
    too_long = {str(p.relative_to(ROOT)): n for p in _modules()
                if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert too_long == {}, f"split these by responsibility (at most {MAX_LINES} lines a module): {too_long}"


def _grep(pattern: str, folder: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["grep", "-rnIE", "--include=*.py", pattern, folder], cwd=ROOT, capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize(("pattern", "folder"), [
    ("psycopg", "call_flows"),  # the PostgreSQL statements live in storage/, behind the domain's ports
    (r"\b(from app|import app)\b", "workers"),  # workers/ import the domain, never the web app
])
def test_grep_finds_nothing(pattern, folder):
    found = _grep(pattern, folder)
    assert found.returncode == 1, found.stdout or found.stderr  # 1: grep ran and matched nothing


def test_the_grep_would_find_a_line(tmp_path):
    """The check above can fail: the same grep finds the line when it is there."""
    (tmp_path / "w.py").write_text("from app.jobs import dispatch\nimport psycopg\n")
    for pattern in ("psycopg", r"\b(from app|import app)\b"):
        assert _grep(pattern, str(tmp_path)).returncode == 0


def _missing_imports(folder: Path) -> list[str]:
    """`from <project module> import name` lines under `folder` whose name the module no longer defines
    at its top level (a function, class, assignment or import of that name), read from the source."""
    import ast

    def defined(module: str) -> set[str] | None:
        path = ROOT / (module.replace(".", "/") + ".py")
        if not path.exists():
            return None
        names: set[str] = set()
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in node.names)
        return names

    missing = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PROJECT_CODE:
                names = defined(node.module)
                missing += [f"{path.relative_to(ROOT)}: {node.module}.{a.name}" for a in node.names
                            if names is not None and a.name != "*" and a.name not in names]
    return missing


def test_bench_scripts_import_only_names_that_exist():
    """bench/ scripts are not run by the suite; a module split must not leave one importing a name
    that moved (bench/press.py did, after bench/ringtime.py was split)."""
    assert _missing_imports(ROOT / "bench") == []


def test_the_import_check_would_find_a_moved_name():
    """The check above can fail: a probe module importing a name that does not exist is named."""
    probe = ROOT / "bench" / "_probe_missing_import.py"
    probe.write_text("from bench.ringtime_load import NO_SUCH_NAME\n")
    try:
        assert _missing_imports(ROOT / "bench") == ["bench/_probe_missing_import.py: bench.ringtime_load.NO_SUCH_NAME"]
    finally:
        probe.unlink()


BOUNDARY_CODE = ("app", "workers", "call_flows")
# The commits that are not a door's: the unit of work's own, and the hand-over's bookkeeping of which
# jobs reached the queue (call_flows/jobs/outbox.py `_move`: after the unit of work committed, in a
# session of the hand-over's own; a unit of work there would hand over again), and the end of an
# autocommitted block of reads (call_flows/autocommit.py `autocommitted`: it ends an empty transaction so
# the connection leaves autocommit; it refuses a session holding changes, 9.16).
COMMITS_ALLOWED_IN = {"call_flows/unit_of_work.py": None, "call_flows/jobs/outbox.py": "_move",
                      "call_flows/autocommit.py": "autocommitted"}


def _is_unit_of_work(node) -> bool:
    """`unit_of_work()` (app/db.py) or `SomethingUnitOfWork(...)`."""
    import ast

    if not isinstance(node, ast.Call):
        return False
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    return name == "unit_of_work" or name.endswith("UnitOfWork")


def _hand_made_commits(source: str, path: str) -> list[str]:
    """`.commit()` calls in `source` that are not a unit of work's: on a name bound by an enclosing
    `with unit_of_work() as uow` (or `with SqlAlchemyUnitOfWork(...) as uow`), or on a parameter
    annotated as a unit of work (a step that commits the unit of work it is given)."""
    import ast

    found: list[str] = []
    allowed_function = COMMITS_ALLOWED_IN.get(path, "")

    def visit(node, bound: frozenset[str], function: str | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            bound = frozenset(a.arg for a in args if a.annotation is not None
                              and "UnitOfWork" in ast.unparse(a.annotation))  # a new scope: only its own
            function = getattr(node, "name", function)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            bound = bound | {item.optional_vars.id for item in node.items if _is_unit_of_work(item.context_expr)
                             and isinstance(item.optional_vars, ast.Name)}
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit"
              and not (isinstance(node.func.value, ast.Name) and node.func.value.id in bound)
              and allowed_function is not None and function != allowed_function):
            found.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        for child in ast.iter_child_nodes(node):
            visit(child, bound, function)

    visit(ast.parse(source), frozenset(), None)
    return found


def test_every_commit_is_a_unit_of_works():
    """Issue 11 item 1, one transaction boundary: a door writes `with unit_of_work() as uow: ...;
    uow.commit()` (docs/architecture.md). No `unit_of_work().commit()` after work done on the request's
    session outside the block, no `db_session().commit()` or `session.commit()` by hand."""
    paths = [p for top in BOUNDARY_CODE for p in (ROOT / top).rglob("*.py") if "__pycache__" not in p.parts]
    assert len(paths) > 100
    found = [line for p in sorted(paths)
             for line in _hand_made_commits(p.read_text(encoding="utf-8"), str(p.relative_to(ROOT)))]
    assert found == [], "commit through a unit of work's `with` block:\n" + "\n".join(found)


def test_the_commit_check_would_find_a_hand_made_commit():
    """The check above can fail: each way of committing by hand is named, the unit of work's is not."""
    source = '''
def view(session, uow: "AbstractUnitOfWork"):
    service(db_session())
    unit_of_work().commit()
    db_session().commit()
    session.commit()
    with unit_of_work() as uow2:
        uow2.commit()
        session.commit()
    uow.commit()
    done = unit_of_work()
    done.commit()
    with SqlAlchemyUnitOfWork(wiring) as job:
        job.commit()
'''
    assert [line.split(": ", 1)[1] for line in _hand_made_commits(source, "app/probe.py")] == [
        "unit_of_work().commit()", "db_session().commit()", "session.commit()", "session.commit()", "done.commit()"]
