import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _import_production(env_overrides: dict) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "socialops.settings.production"
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )


def test_production_refuses_to_start_without_secret_key():
    result = _import_production({"DJANGO_ALLOWED_HOSTS": "portal.example.org", "DATABASE_URL": "sqlite:///x"})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = _import_production({"DJANGO_SECRET_KEY": "x" * 60, "DATABASE_URL": "sqlite:///x"})
    assert result.returncode != 0
    assert "DJANGO_ALLOWED_HOSTS must be set" in result.stderr


def test_production_starts_with_its_environment():
    result = _import_production({"DJANGO_SECRET_KEY": "x" * 60, "DJANGO_ALLOWED_HOSTS": "portal.example.org",
                                 "DATABASE_URL": "sqlite:///x",
                                 "SOCIALOPS_VAULT_KEYS": "a" * 43 + "="})
    assert result.returncode == 0, result.stderr
