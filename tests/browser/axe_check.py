"""axe-core in the browser tests: the accessibility engine from the npm registry, injected into a page and run there.

The package is fetched once with ``npm pack axe-core@AXE_VERSION`` (npm verifies it against the registry; the
tarball is checked again against ``AXE_INTEGRITY`` here) into ``test-artifacts/axe/`` (not committed), so a fresh
machine needs npm and access to the npm registry, nothing else. ``scripts/test.sh`` may fetch it ahead:
``npm pack axe-core@4.14.1 --pack-destination test-artifacts/axe``.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

AXE_VERSION = "4.14.1"
#: the registry's ``dist.integrity`` of axe-core 4.14.1 (``npm view axe-core@4.14.1 dist.integrity``)
AXE_INTEGRITY = "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ=="
AXE_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe"
#: the impacts the tests allow none of
BLOCKING = ("critical", "serious")


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


@cache
def axe_source() -> str:
    """The text of ``axe.min.js``, fetched from the npm registry the first time."""
    tarball = AXE_DIR / f"axe-core-{AXE_VERSION}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError("npm is missing: the accessibility tests fetch axe-core from the npm registry "
                               "(apt-get install npm)")
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(AXE_DIR)],
                              capture_output=True, text=True, timeout=300, cwd=AXE_DIR)
        if done.returncode != 0 or not tarball.exists():
            raise RuntimeError(f"npm pack axe-core@{AXE_VERSION} failed: {done.stderr[-2000:]}")
    if _integrity(tarball) != AXE_INTEGRITY:
        raise RuntimeError(f"{tarball} is not the registry's axe-core {AXE_VERSION}: delete it and run again")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None
        return member.read().decode("utf-8")


def axe_violations(page: Any, context: str = "document") -> list[dict[str, Any]]:
    """Run axe-core on the page (``context``: a JS expression, e.g. a selector string in quotes) and return its
    violations: ``{"id", "impact", "help", "nodes": [{"target", "html"}, ...]}``."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source())
    result: dict[str, Any] = page.evaluate(
        f"async () => await axe.run({context}, {{resultTypes: ['violations']}})")
    return list(result["violations"])


def blocking(violations: list[dict[str, Any]]) -> list[str]:
    """The critical and serious violations, one readable line each (for an assertion's message)."""
    return [f"{v['impact']} {v['id']}: {v['help']} -> " + "; ".join(
        f"{n['target']} {n['html'][:160]}" for n in v["nodes"][:5]) for v in violations if v["impact"] in BLOCKING]
