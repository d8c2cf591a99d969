"""The Node.js token-signing snippet in docs/embedding.md signs tokens the server accepts: the code block is run
as written with ``node`` and its tokens are checked by the server's own ``verify_token``."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from assistant.errors import AuthError
from assistant.identity import issue_token, verify_token

DOC = Path(__file__).resolve().parents[2] / "docs" / "embedding.md"
HEADING = "## Signing a shopper token from a Node.js backend"
SECRET = "node-snippet-secret-0123456789abcdef"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(NODE is None, reason="node is not installed: the snippet cannot be run here")


def snippet() -> str:
    """The first ``js`` block under the section's heading, as the docs show it."""
    text = DOC.read_text(encoding="utf-8")
    assert HEADING in text, f"{DOC} has no section {HEADING!r}"
    found = re.search(r"```js\n(.*?)```", text.split(HEADING, 1)[1], re.S)
    assert found, "the section has no ```js block"
    return found.group(1)


def node_tokens(tmp_path: Path, customer_ids: list[str], ttl_s: int = 600) -> list[str]:
    """Tokens the documented ``signShopperToken`` signs, one per customer id."""
    module = tmp_path / "shopper-token.js"
    module.write_text(snippet(), encoding="utf-8")
    program = ("const { signShopperToken } = require(process.argv[1]);"
               "const ids = JSON.parse(process.argv[2]);"
               "console.log(JSON.stringify(ids.map(id => signShopperToken(id, process.env.SECRET, "
               f"{ttl_s}))));")
    assert NODE is not None
    done = subprocess.run([NODE, "-e", program, str(module), json.dumps(customer_ids)], capture_output=True,
                          text=True, timeout=60, env={"SECRET": SECRET, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def payload(token: str) -> dict[str, object]:
    part = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_the_snippets_tokens_verify_as_the_shopper_they_name(tmp_path: Path) -> None:
    ids = ["C001", "A-100/7", "客户 7"]  # a plain id, one with URL characters, one not in ASCII

    tokens = node_tokens(tmp_path, ids)

    assert [verify_token(t, SECRET, max_lifetime_s=86_400).customer_id for t in tokens] == ids
    assert all(abs(int(str(payload(t)["exp"])) - (time.time() + 600)) < 30 for t in tokens)


def test_the_snippets_token_is_the_one_the_server_would_sign(tmp_path: Path) -> None:
    [token] = node_tokens(tmp_path, ["C001"])
    expires = int(str(payload(token)["exp"]))

    assert token == issue_token("C001", SECRET, 600, now=lambda: expires - 600)


def test_a_token_from_the_snippet_with_another_secret_is_refused(tmp_path: Path) -> None:
    [token] = node_tokens(tmp_path, ["C001"])

    with pytest.raises(AuthError, match="signature"):
        verify_token(token, "a-different-secret-0123456789abcdef")
