"""The packages' imports flow one way: telegram → chat → index, tools → anything; nothing imports
what stands above it."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What each package may import from the project (besides itself).
ALLOWED = {
    # index/: each stage imports only the ones below it (index/__init__.py shows the plan).
    "index.language": set(),
    "index.sources": {"index.language"},
    "index.encode": {"index.language"},
    "index.archive": {"index.language", "index.sources", "index.encode"},
    "index.search": {"index.language", "index.sources", "index.encode", "index.archive"},
    "bot.chat": {"index"},
    "bot.insights": {"bot.chat", "bot.storage", "index.language"},
    "bot.telegram": {"bot.chat", "bot.config", "bot.errors", "bot.insights", "bot.runtime", "bot.storage", "index"},
}


def _package(module: str) -> str:
    return next((p for p in sorted(ALLOWED, key=len, reverse=True) if module == p or module.startswith(p + ".")),
                "bot" if module.startswith("bot") else module.split(".")[0])


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {m for m in found if m.split(".")[0] in ("bot", "index")}


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_imports_only_what_stands_below_it(package):
    folder = ROOT.joinpath(*package.split("."))
    wrong = []
    for path in folder.rglob("*.py"):
        for module in _imports(path):
            target = _package(module)
            if target != package and not any(target == a or module.startswith(a + ".") or module == a
                                              for a in ALLOWED[package]):
                wrong.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not wrong, "\n".join(wrong)


def test_index_holds_its_stages_as_packages_and_nothing_beside_them():
    loose = [p.name for p in (ROOT / "index").glob("*.py") if p.name != "__init__.py"]
    assert not loose, loose
    stages = {p.name for p in (ROOT / "index").iterdir() if (p / "__init__.py").is_file()}
    assert stages == {name.split(".")[1] for name in ALLOWED if name.startswith("index.")}


def test_the_telegram_service_keeps_each_step_in_a_room_of_its_own():
    # One file once held flow control, assembly, commands, messages, buttons and rendering (935 lines).
    long = {p.name: n for p in (ROOT / "bot" / "telegram").glob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, long
