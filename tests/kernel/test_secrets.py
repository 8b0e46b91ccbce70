"""Secrets by value, not by spelling (issue 14): however a cell reaches a secret, it is in no stored
text, no report and no export; URL passwords are masked; ``redact`` cleans history stored before."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.kernel.helpers import Kernel, flush

PASSWORD = "hunter2-Secret!"  # DB_PASSWORD: a secret by its name
SETTING = "abcdefgh123"  # PLAIN_SETTING: an ordinary name, read by a cell, so a secret by value
TYPED = "zq-9876543210"  # typed into a cell: only `redact --value` can know it


@pytest.fixture(scope="module")
def recorded(tmp_path_factory, csv_server):
    tmp = tmp_path_factory.mktemp("secrets")
    db = tmp / "prov.sqlite"
    nb = tmp / "secrets.ipynb"
    env = {"PROVKERNEL_DB": str(db), "DB_PASSWORD": PASSWORD, "PLAIN_SETTING": SETTING}
    cells = [
        'from os import environ as ENV\ndsn = ENV["DB_PASSWORD"]',
        "import os\ndef setting(name):\n    return os.environ.get(name)\ntok = setting('PLAIN_SETTING')",
        f"url = f'http://ana:{{dsn}}@127.0.0.1:{csv_server}/data.csv'\nnote = 'token is ' + tok",
        (
            "import urllib.request\n"
            "req = urllib.request.Request(url.replace('ana:' + dsn + '@', ''))\n"
            "req.full_url = url\n"
            "try:\n    urllib.request.urlopen(req).read()\nexcept Exception:\n    pass"
        ),
        "raise ConnectionError(f'cannot reach {url} as ana with {dsn}')",
        f"api_value = '{TYPED}'",
    ]
    with Kernel(cwd=tmp, env=env, notebook=nb) as k:
        replies = [k.execute(code, stop_on_error=False) for code in cells]
        flush(k)
        shown = [k.execute(f"%prov {report}") for report in ("history", "data", "values dsn", "values note")]
        shown.append(k.execute("%provgraph --data"))
    exports = {}
    for fmt in ("prov-json", "prov-n", "json"):
        out = tmp / f"export.{fmt}"
        cli(db, "export", str(nb), str(out), "--format", fmt)
        exports[fmt] = out.read_text()
    return {"db": db, "nb": nb, "replies": replies, "shown": shown, "exports": exports}


def cli(db, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "provkernel", *args, "--db", str(db)],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done


def on_disk(db) -> bytes:
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


def test_no_secret_in_the_database_file(recorded):
    data = on_disk(recorded["db"])
    assert recorded["replies"][4].error["ename"] == "ConnectionError"  # the cell itself saw the secret
    for secret in (PASSWORD, SETTING):
        assert secret.encode() not in data, secret
    assert b"ana:***@127.0.0.1" in data  # the URL is kept, its password masked


def test_no_secret_in_reports_or_exports(recorded):
    texts = [str(o.get("data", o.get("text"))) for r in recorded["shown"] for o in r.outputs]
    texts += recorded["exports"].values()
    for text in texts:
        assert PASSWORD not in text and SETTING not in text
    assert "<redacted>" in "".join(texts)
    assert "ana:***@" in recorded["exports"]["json"]


def test_redact_rewrites_history_already_stored(recorded):
    db = recorded["db"]
    assert TYPED.encode() in on_disk(db)  # an ordinary value until the user names it a secret
    done = cli(db, "redact", str(recorded["nb"]), "--value", TYPED)
    assert "values" in done.stdout
    assert TYPED.encode() not in on_disk(db)


def test_redact_rejects_a_too_short_value(recorded):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "provkernel",
            "redact",
            str(recorded["nb"]),
            "--value",
            "ab",
            "--db",
            str(recorded["db"]),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
