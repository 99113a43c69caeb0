"""`make run`'s own behaviour: the bind address, a busy port, error pages."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def busy_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        yield holder.getsockname()[1]


def test_a_busy_port_fails_at_once_with_a_clear_message_and_a_non_zero_exit(busy_port):
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "run-dev.sh")],
        env={"SOCIALOPS_BIND": f"127.0.0.1:{busy_port}", "PATH": "/usr/bin:/bin"},
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert f"Cannot serve on 127.0.0.1:{busy_port}" in result.stderr
    assert "SOCIALOPS_BIND=" in result.stderr
    # It never claimed to be serving.
    assert "SocialOps Portal on" not in result.stdout


@pytest.mark.parametrize("value", ["8000", "localhost:", "127.0.0.1:99999", ":8000"])
def test_a_malformed_bind_address_is_named(value):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_bind.py"), value],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "is not HOST:PORT" in result.stderr


def test_a_free_address_passes_the_check():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_bind.py"), f"127.0.0.1:{port}"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_an_unknown_address_shows_the_portal_s_own_page_not_the_url_map(client, settings):
    settings.DEBUG = False
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "Page not found" in body
    assert "Go to My work" in body
    assert "URLconf" not in body and "urlpatterns" not in body
