"""The systemd unit shipped in deploy/ and the README's block that sets it up: one systemd accepts
(fast tier), and whose lines start a bot that answers and records as a system user (end to end)."""
import getpass
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import LANSHAN, ROOT
from fake_bot_api import FakeBotAPI

UNIT = ROOT / "deploy" / "article-qa.service"
TOKEN = "123456:TEST-token-secret"
NOBODY = 65534


def unit_lines(key: str) -> list[str]:
    return re.findall(rf"^{key}=(.*)$", UNIT.read_text(encoding="utf-8"), re.MULTILINE)


def readme_block() -> str:
    """The shell block of "Run it for a newsroom" that sets a server up."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Run it for a newsroom", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```sh\n(.*?)```", section, re.DOTALL).group(1)


def test_the_unit_restarts_the_bot_and_stops_it_gently():
    unit = UNIT.read_text(encoding="utf-8")
    assert "Restart=on-failure" in unit and "KillSignal=SIGTERM" in unit
    assert unit_lines("ExecStartPre") == ["/usr/bin/make setup"]
    assert unit_lines("ExecStart") == ["/opt/article-qa/.venv/bin/article-qa serve"]
    assert unit_lines("LoadCredential") == ["telegram-token:/etc/article-qa/token"]   # the token outside the repository
    assert "TELEGRAM_BOT_TOKEN=" not in unit.split("[Unit]")[1]


def test_the_readme_block_makes_the_user_folders_and_token_file_the_unit_expects():
    block, unit = readme_block(), UNIT.read_text(encoding="utf-8")
    home = unit_lines("Environment")[0].removeprefix("HOME=")
    assert "apt install" in block and all(p in block for p in ("git", "make", "python3-venv"))
    adduser = re.search(r"adduser --system --group --home (\S+) (\S+)", block)
    assert adduser and adduser.group(1) == home and f"User={adduser.group(2)}" in unit
    assert home == "/var/lib/" + unit_lines("StateDirectory")[0]
    assert "/opt/article-qa" in re.search(r"git clone \S+ (\S+)", block).group(1)
    assert f"chown -R {adduser.group(2)}:{adduser.group(2)} /opt/article-qa" in block
    assert "/etc/article-qa/token" in block and "umask 077" in block   # root's alone, never in shell history
    assert "runuser -u article-qa -- make setup" in block            # the first set-up as the service's user
    assert "cp deploy/article-qa.service /etc/systemd/system/" in block


@pytest.mark.skipif(not shutil.which("systemd-analyze") or not shutil.which("make"),
                    reason="systemd-analyze or make is not installed here")
def test_systemd_accepts_the_unit(tmp_path):
    # The unit as it stands on a server: this checkout's folder, this machine's user.
    (tmp_path / "token").write_text(TOKEN + "\n", encoding="utf-8")
    unit = (UNIT.read_text(encoding="utf-8").replace("/opt/article-qa/.venv/bin", str(Path(sys.executable).parent))
            .replace("/opt/article-qa", str(ROOT))
            .replace("User=article-qa", f"User={getpass.getuser()}").replace("Group=article-qa\n", "")
            .replace("/etc/article-qa/token", str(tmp_path / "token"))
            .replace("/usr/bin/make", shutil.which("make")))
    edited = tmp_path / "article-qa.service"
    edited.write_text(unit, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(edited)], capture_output=True, text=True)
    assert result.returncode == 0 and "article-qa.service" not in result.stderr, result.stderr


def nobody_can_run_this_checkout() -> bool:
    """Whether user nobody can run this checkout's interpreter and read its files (a venv made from
    an interpreter under /root cannot be run by anyone else)."""
    as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
    check = f"open({str(ROOT / 'config.yaml')!r}).read()"
    # Through sh: setpriv's own exec of a program is let through where a later one is not.
    return os.geteuid() == 0 and subprocess.run(as_nobody + ["sh", "-c", 'exec "$0" -c "$1"', sys.executable, check],
                                                capture_output=True).returncode == 0


class SystemUser:
    """The unit's lines run as systemd would run them: in the project folder, HOME the state
    directory, the token a credential; as user nobody when the tests run as root and nobody can
    run this checkout, else as the tests' own user."""

    def __init__(self, tmp_path, index_dir):
        self.home, self.credentials, self.data = tmp_path / "state", tmp_path / "credentials", tmp_path / "data"
        for folder in (self.home, self.credentials, self.data):
            folder.mkdir()
        shutil.copytree(index_dir, self.data / "index")
        self.config = self.data / "config.yaml"
        self.config.write_text(f"articles: [{LANSHAN}]\nindex_dir: index\ninsights: {{path: insights.sqlite3}}\n"
                               "telegram: {poll_timeout: 1, journal: journal.sqlite3}\n",
                               encoding="utf-8")
        self.as_nobody = nobody_can_run_this_checkout()
        if self.as_nobody:
            for folder in (self.home, self.data):
                subprocess.run(["chown", "-R", f"{NOBODY}:{NOBODY}", folder], check=True)
        self.credentials.chmod(0o755)

    def command(self, line: str) -> list[str]:
        words = [w.replace("/opt/article-qa/.venv/bin", str(Path(sys.executable).parent)).replace("/opt/article-qa", str(ROOT))
                 for w in shlex.split(line)]
        if words[0] == "/usr/bin/make":
            words[0] = shutil.which("make")
        as_nobody = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
        return as_nobody + words if self.as_nobody else words

    def env(self, api=None) -> dict:
        env = {k: v for k, v in os.environ.items() if k not in ("TELEGRAM_BOT_TOKEN", "HOME", "ARTICLE_QA_CACHE")}
        env |= {"HOME": unit_lines("Environment")[0].removeprefix("HOME=").replace("/var/lib/article-qa", str(self.home)),
                "ARTICLE_QA_CONFIG": str(self.config)}
        if self.credentials.exists():
            env["CREDENTIALS_DIRECTORY"] = str(self.credentials)
        return env | ({"TELEGRAM_BASE_URL": api.base_url} if api else {})

    def token(self, text: str) -> None:
        path = self.credentials / "telegram-token"
        path.write_text(text, encoding="utf-8")
        path.chmod(0o644)   # systemd hands the service a copy it may read; here, the file itself


@pytest.mark.e2e
@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed here")
def test_the_units_lines_start_a_bot_that_answers_and_records_as_a_system_user(tmp_path, index_dir):
    user = SystemUser(tmp_path, index_dir)
    user.token(TOKEN + "\n")   # the bare token, as @BotFather gives it
    prepared = subprocess.run(user.command(unit_lines("ExecStartPre")[0]), cwd=ROOT, env=user.env(),
                              capture_output=True, text=True, timeout=600)
    assert prepared.returncode == 0, prepared.stderr
    api = FakeBotAPI(TOKEN).start()
    log = tmp_path / "bot.log"
    bot = subprocess.Popen(user.command(unit_lines("ExecStart")[0]), cwd=ROOT, env=user.env(api),
                           stdout=open(log, "w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 120
        while "setMyCommands" not in api.calls:
            assert time.time() < deadline and bot.poll() is None, log.read_text()
            time.sleep(0.1)
        api.message("岚山区委书记是谁？", user_id=11)
        while not [s for s in api.sent_to(11) if s["method"] == "sendMessage"]:
            assert time.time() < deadline + 60, log.read_text()
            time.sleep(0.1)
    finally:
        bot.send_signal(signal.SIGTERM)
        bot.wait(30)
        api.stop()
    assert bot.returncode == 0 and TOKEN not in log.read_text()
    assert "insights" not in log.read_text()   # no "cannot open the insights database"
    assert (user.data / "insights.sqlite3").exists() and (user.home / ".config" / "article-qa" / "insights.key").exists()
    assert not list(ROOT.glob("*.ses"))


@pytest.mark.e2e
@pytest.mark.parametrize("token, says", [("", "TELEGRAM_BOT_TOKEN is not set"),
                                         ("123456 TEST-token-secret\n", "does not hold a bot token"),
                                         (f"{TOKEN}\nsecond line\n", "must hold one line")])
def test_a_missing_or_malformed_token_ends_the_service_with_one_line(tmp_path, index_dir, token, says):
    user = SystemUser(tmp_path, index_dir)
    if token:
        user.token(token)
    else:
        user.credentials.rmdir()
    ended = subprocess.run(user.command(unit_lines("ExecStart")[0]), cwd=ROOT, env=user.env(),
                           capture_output=True, text=True, timeout=120)
    assert ended.returncode != 0 and says in ended.stderr and len(ended.stderr.strip().splitlines()) == 1
    assert "TEST-token-secret" not in ended.stderr + ended.stdout
