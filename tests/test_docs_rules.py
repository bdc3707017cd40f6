"""docs/rules.md cannot rot: every DOMAIN rule number quoted in the code (call_flows/, app/, workers/)
has a row in its table, and every module and test a row names exists. Reads only this repository
(DOMAIN.md itself is not here on CI)."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES_DOC = ROOT / "docs" / "rules.md"
CODE_DIRS = ("call_flows", "app", "workers")
CODE_SUFFIXES = {".py", ".html", ".js"}
RULE = re.compile(r"\b([TMIRC](?:[1-9][0-9]?))\b")  # T3, R10, ... (DOMAIN.md's numbering)
TICKED = re.compile(r"`([^`]+)`")
TEST_REF = re.compile(r"^(tests/[\w/]+\.py)::(\w+)$")


def rule_rows(doc: Path = RULES_DOC) -> dict[str, list[str]]:
    """{rule: [cells]} for each row of the rules table (rows whose first cell is a rule number)."""
    rows = {}
    for line in doc.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and RULE.fullmatch(cells[0]):
            rows[cells[0]] = cells
    return rows


def rules_in_code() -> dict[str, str]:
    """{rule: first file quoting it} over the code of the three packages."""
    found: dict[str, str] = {}
    for top in CODE_DIRS:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in CODE_SUFFIXES and path.is_file():
                for rule in RULE.findall(path.read_text(encoding="utf-8", errors="replace")):
                    found.setdefault(rule, str(path.relative_to(ROOT)))
    return found


def paths_named(cell: str) -> list[str]:
    """The repository paths a table cell names in backticks (`call_flows/calls/ring.py`)."""
    return [t for t in TICKED.findall(cell) if "/" in t and not t.startswith("/")]


def test_every_rule_quoted_in_the_code_has_a_row():
    rows, code = rule_rows(), rules_in_code()
    assert len(code) >= 29, "the rule scan found too few rules: the pattern or the layout changed"
    missing = {rule: where for rule, where in code.items() if rule not in rows}
    assert not missing, f"rules quoted in the code but not in docs/rules.md: {missing}"


def test_every_row_names_modules_that_exist():
    rows = rule_rows()
    assert rows, "docs/rules.md has no rule rows"
    absent = []
    for rule, cells in rows.items():
        modules = paths_named(cells[2])
        assert modules, f"{rule}: no module named in the 'enforced in' column"
        absent += [f"{rule}: {m}" for m in modules if not (ROOT / m).exists()]
    assert not absent, f"docs/rules.md names modules that do not exist: {absent}"


def test_every_row_names_tests_that_exist():
    rows = rule_rows()
    absent = []
    for rule, cells in rows.items():
        refs = TICKED.findall(cells[3])
        assert refs, f"{rule}: no test named in the 'proved by' column"
        for ref in refs:
            match = TEST_REF.match(ref)
            assert match, f"{rule}: {ref!r} is not tests/<file>.py::<test>"
            path = ROOT / match.group(1)
            if not path.exists() or not re.search(rf"^(async )?def {match.group(2)}\(",
                                                  path.read_text(encoding="utf-8"), re.MULTILINE):
                absent.append(f"{rule}: {ref}")
    assert not absent, f"docs/rules.md names tests that do not exist: {absent}"


def test_the_checks_see_a_missing_row_and_a_missing_module(tmp_path):
    """The checks above can fail: a table without T3, or naming a module that is gone, is caught."""
    text = RULES_DOC.read_text(encoding="utf-8")
    broken = "\n".join(line for line in text.splitlines() if not line.startswith("| T3 |"))
    broken = broken.replace("`call_flows/calls/ring.py`", "`call_flows/ring.py`")
    doc = tmp_path / "rules.md"
    doc.write_text(broken, encoding="utf-8")
    assert "T3" not in rule_rows(doc) and "T3" in rules_in_code()
    gone = [m for cells in rule_rows(doc).values() for m in paths_named(cells[2]) if not (ROOT / m).exists()]
    assert "call_flows/ring.py" in gone
