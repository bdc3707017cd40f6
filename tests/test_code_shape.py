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
