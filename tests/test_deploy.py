"""Fast tier: the systemd unit shipped in deploy/ is one systemd accepts, with its restart policy."""
import getpass
import shutil
import subprocess

import pytest

from conftest import ROOT

UNIT = ROOT / "deploy" / "article-qa.service"


def test_the_unit_restarts_the_bot_and_stops_it_gently():
    unit = UNIT.read_text(encoding="utf-8")
    assert "Restart=on-failure" in unit and "KillSignal=SIGTERM" in unit
    assert "ExecStart=/usr/bin/make run" in unit and "EnvironmentFile=" in unit   # the token outside the repository
    assert "TELEGRAM_BOT_TOKEN=" not in unit.split("[Unit]")[1]


@pytest.mark.skipif(not shutil.which("systemd-analyze") or not shutil.which("make"),
                    reason="systemd-analyze or make is not installed here")
def test_systemd_accepts_the_unit(tmp_path):
    # The unit as a newsroom edits it: this checkout's folder, this machine's user.
    unit = (UNIT.read_text(encoding="utf-8").replace("/opt/article-qa", str(ROOT))
            .replace("User=article-qa", f"User={getpass.getuser()}")
            .replace("EnvironmentFile=/etc/article-qa/token", f"EnvironmentFile=-{tmp_path / 'token'}")
            .replace("/usr/bin/make", shutil.which("make")))
    edited = tmp_path / "article-qa.service"
    edited.write_text(unit, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(edited)], capture_output=True, text=True)
    assert result.returncode == 0 and "article-qa.service" not in result.stderr, result.stderr
