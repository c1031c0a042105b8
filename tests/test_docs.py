"""The documentation site: ``mkdocs build --strict`` passes and the code on its pages runs.

The build is the real one (mkdocs-material + mkdocstrings over the docstrings) into a
temporary directory; a warning, such as a broken cross-reference, fails it. Every nav page
and the API pages must be in the output, with the API pages holding the documented objects.
The ```python blocks of each guide page run in order in one namespace per page, on CPU, in
a temporary directory; a block placed right after ``<!-- not run: reason -->`` is skipped
(downloads, torchrun, GPUs).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MKDOCS = shutil.which("mkdocs", path=str(Path(sys.executable).parent)) or shutil.which("mkdocs")
GUIDES = ["index", "keras", "pytorch", "fine-tuning", "tensorboard", "saving", "many-gpus"]
API_OBJECTS = {  # page -> anchors (ids of documented objects) it must hold
    "models": ["kerasish.models.Model", "kerasish.models.Sequential"],
    "training": ["kerasish.training.Trainer.fit", "kerasish.training.Trainer.compile"],
    "layers": ["kerasish.layers.core.Dense", "kerasish.layers.recurrent.LSTM"],
    "callbacks": ["kerasish.callbacks.early_stopping.EarlyStopping"],
    "applications": ["kerasish.applications.VGG16", "kerasish.applications.Application"],
}
_BLOCK = re.compile(r"(<!-- not run: [^>]+ -->\s*\n)?```python\n(.*?)```", re.DOTALL)


def _nav_pages() -> list[str]:
    """The Markdown files the nav of mkdocs.yml names (read as text: no YAML tags there)."""
    text = (ROOT / "mkdocs.yml").read_text()
    nav = text[text.index("\nnav:") :]
    return re.findall(r":\s*(\S+\.md)\s*$", nav, re.MULTILINE)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if MKDOCS is None:
        pytest.skip("mkdocs is not installed (pip install 'kerasish[docs]')")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [MKDOCS, "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_every_nav_page_is_built(site: Path) -> None:
    pages = _nav_pages()
    assert "architecture.md" in pages and len(pages) >= 8 + len(API_OBJECTS)
    for page in pages:
        html = site / ("index.html" if page == "index.md" else page[:-3] + "/index.html")
        assert html.is_file(), f"{page} was not built"
        assert "<h1" in html.read_text(), f"{page} has no title"


@pytest.mark.parametrize("page", sorted(API_OBJECTS))
def test_api_pages_hold_the_docstrings(site: Path, page: str) -> None:
    html = (site / "api" / page / "index.html").read_text()
    for anchor in API_OBJECTS[page]:
        assert f'id="{anchor}"' in html, f"{anchor} missing from api/{page}"
    # the docstring examples render as code, not as Markdown quotes of ">>>"
    assert "language-pycon" in html or "highlight" in html
    assert "<blockquote>\n<blockquote>" not in html


@pytest.mark.parametrize("page", GUIDES)
def test_guide_code_runs(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (DOCS / f"{page}.md").read_text()
    blocks = [code for skip, code in _BLOCK.findall(text) if not skip]
    if not blocks:
        pytest.skip(f"{page}.md has no runnable python block")
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType(f"docs_{page.replace('-', '_')}")  # as a script's __main__ is
    monkeypatch.setitem(sys.modules, module.__name__, module)
    namespace = module.__dict__
    for i, code in enumerate(blocks):
        with contextlib.redirect_stdout(io.StringIO()):
            try:
                exec(compile(code, f"docs/{page}.md[block {i}]", "exec"), namespace)
            except Exception as e:  # noqa: BLE001 - report which block failed
                raise AssertionError(f"docs/{page}.md block {i} failed:\n{code}") from e
