"""Issue 14.11: `./scripts/serve.sh` installs only what serving needs; the test tools come with the test
command; the flask commands print no Alembic plugin chatter.

scripts/setup.sh runs for real in a scratch copy whose `.venv/bin/pip` and `npm` are stand-ins that
record what they were asked to install (nothing is downloaded)."""
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _stand_in(path: Path, log: Path) -> None:
    # like `npm ci`, the npm stand-in leaves a node_modules folder
    path.write_text(f'#!/bin/sh\necho "$(basename "$0") $*" >> {log}\n'
                    '[ "$(basename "$0")" = npm ] && mkdir -p node_modules\nexit 0\n')
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _scratch(tmp_path: Path) -> tuple[Path, Path, dict]:
    repo, log = tmp_path / "repo", tmp_path / "installs.log"
    (repo / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", repo / "scripts" / "setup.sh")
    for name in ("requirements.txt", "requirements-dev.txt", "package-lock.json"):
        shutil.copy(ROOT / name, repo / name)
    (repo / ".venv" / "bin").mkdir(parents=True)
    (repo / "bin").mkdir()
    for tool in (repo / ".venv" / "bin" / "pip", repo / ".venv" / "bin" / "python", repo / "bin" / "npm"):
        _stand_in(tool, log)
    env = {**os.environ, "PATH": f"{repo / 'bin'}:{os.environ['PATH']}"}
    return repo, log, env


def _setup(repo: Path, env: dict, purpose: str) -> None:
    subprocess.run(["bash", "scripts/setup.sh", purpose], cwd=repo, env=env, check=True, timeout=60)


def _installs(log: Path) -> list[str]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [line for line in lines if "--upgrade pip" not in line]


def test_14_11_serve_installs_only_the_runtime_requirements_and_no_node_tools(tmp_path):
    repo, log, env = _scratch(tmp_path)
    _setup(repo, env, "serve")
    assert _installs(log) == ["pip install --quiet -r requirements.txt"]
    _setup(repo, env, "serve")
    assert len(_installs(log)) == 1  # the stamp: nothing again until requirements.txt changes


def test_14_11_test_adds_the_dev_requirements_and_node_tools_once(tmp_path):
    repo, log, env = _scratch(tmp_path)
    _setup(repo, env, "serve")
    _setup(repo, env, "test")
    assert _installs(log) == ["pip install --quiet -r requirements.txt", "pip install --quiet -r requirements-dev.txt",
                              "npm ci --no-audit --no-fund --loglevel=error"]
    _setup(repo, env, "test")
    assert len(_installs(log)) == 3  # both stamps kept: nothing installed again
    (repo / "requirements-dev.txt").write_text((repo / "requirements-dev.txt").read_text() + "\n# changed\n")
    _setup(repo, env, "test")
    assert _installs(log)[-1].startswith("pip install --quiet -r requirements-dev.txt")
    _setup(repo, env, "serve")  # a dev-only change does not reinstall what serving needs
    assert _installs(log).count("pip install --quiet -r requirements.txt") == 1


def test_14_11_serve_and_test_scripts_ask_for_their_own_part():
    assert "bash scripts/setup.sh serve" in (ROOT / "scripts" / "serve.sh").read_text()
    assert "bash scripts/setup.sh test" in (ROOT / "scripts" / "test.sh").read_text()


def test_14_11_flask_commands_print_no_alembic_plugin_chatter(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"}
    env.pop("REDIS_URL", None)
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "setup plugin" not in result.stdout + result.stderr
    assert "INFO alembic" not in result.stdout + result.stderr
    assert result.stdout.strip() == "database schema is up to date"
