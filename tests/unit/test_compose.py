"""compose.yaml, Dockerfile and .dockerignore, checked as files (Docker does not run in CI).

Environment variable names are checked against ../shared/CONTRACT.md, read here, so a typo in a
setting's name (which Rocket would silently ignore) fails the test.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.fixtures import CONTRACT as SHARED_CONTRACT

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = SHARED_CONTRACT
PASS_THROUGH = re.compile(r"^\$\{(?P<name>[A-Z][A-Z0-9_]*):-\}$")


def contract_variables() -> set[str]:
    """Every upper-case name the contract writes in backticks (its environment variables)."""
    names = set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", CONTRACT.read_text(encoding="utf-8")))
    assert {"DATABASE_URL", "SLACK_API_TOKEN", "GITHUB_KEY", "AWS_ACCESS_KEYID"} <= names  # parsed right
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=VALUE list form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def healthcheck_text(service: dict[str, Any]) -> str:
    test = service["healthcheck"]["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


def test_services_ports_and_databases(compose):
    services = compose["services"]
    assert {"rocket", "mongo", "dynamodb-local", "rocket-dynamo"} <= services.keys()
    rocket = services["rocket"]
    assert rocket["build"] in (".", {"context": "."})
    assert "5000:5000" in rocket["ports"]
    assert environment(rocket)["DATABASE_URL"] == "mongodb://mongo:27017/rocket"
    assert rocket["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert "profiles" not in rocket and "profiles" not in services["mongo"]  # the default stack

    mongo = services["mongo"]
    assert mongo["image"] == "mongo:7"
    volumes = [v.split(":") for v in mongo["volumes"]]
    named = [name for name, target, *_ in volumes if target == "/data/db"]
    assert named and named[0] in (compose.get("volumes") or {}), "mongo keeps /data/db in a named volume"


def test_dynamodb_profile(compose):
    services = compose["services"]
    local, rocket = services["dynamodb-local"], services["rocket-dynamo"]
    assert local["image"].split(":")[0] == "amazon/dynamodb-local"
    assert "8000:8000" in local["ports"]
    assert local["profiles"] == ["dynamodb"] and rocket["profiles"] == ["dynamodb"]
    env = environment(rocket)
    assert env["DATABASE_URL"] == "dynamodb://dynamodb-local:8000"
    assert env["AWS_ACCESS_KEYID"] and env["AWS_SECRET_KEY"] and env["AWS_REGION"]
    assert "dynamodb-local" in rocket["depends_on"]
    host_ports = [p.split(":")[0] for s in services.values() for p in s.get("ports", [])]
    assert len(host_ports) == len(set(host_ports)), "with the profile on, no two services share a host port"


def test_healthchecks(compose):
    services = compose["services"]
    for name in ("rocket", "rocket-dynamo"):
        text = healthcheck_text(services[name])
        assert "/healthz" in text and "urllib" in text and "curl" not in text, name
    mongo = healthcheck_text(services["mongo"])
    assert "mongosh" in mongo and "ping" in mongo


def test_every_environment_variable_is_the_contracts_and_settings_pass_through(compose):
    names = contract_variables()
    for service_name, service in compose["services"].items():
        for key, value in environment(service).items():
            assert key in names, f"{service_name}: {key} is not a variable of the contract"
            match = PASS_THROUGH.match(value)
            if "${" in value:
                assert match and match["name"] == key, f"{service_name}: {key}={value} passes another name"
    passed = {k for k, v in environment(compose["services"]["rocket"]).items() if PASS_THROUGH.match(v)}
    wanted = {n for n in names if n.startswith(("SLACK_", "GITHUB_"))}
    assert wanted <= passed, f"not passed through from the host: {sorted(wanted - passed)}"


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "")
            for parts in (line.strip().split(None, 1) for line in joined.splitlines() if line.strip())]


def exec_form(argument: str) -> list[str]:
    argument = argument.strip()
    return json.loads(argument) if argument.startswith("[") else shlex.split(argument)


def test_dockerfile_runs_rocket_serve_as_non_root_with_a_healthcheck():
    instructions = dockerfile()
    kinds = [k for k, _ in instructions]
    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert any(k == "RUN" and re.search(r"pip install (\S+ )*\.(\s|$)", a) for k, a in instructions)
    assert ("EXPOSE", "5000") in instructions

    users = [a.split(":")[0] for k, a in instructions if k == "USER"]
    assert users and users[-1] not in ("root", "0")
    last_user = max(i for i, k in enumerate(kinds) if k == "USER")
    assert all(i < last_user for i, k in enumerate(kinds) if k == "RUN"), "nothing runs as root after USER"

    entrypoint = next((exec_form(a) for k, a in reversed(instructions) if k == "ENTRYPOINT"), [])
    cmd = next((exec_form(a) for k, a in reversed(instructions) if k == "CMD"), [])
    assert entrypoint + cmd == ["rocket", "serve", "--host", "0.0.0.0"]  # a container listens widely

    [health] = [a for k, a in instructions if k == "HEALTHCHECK"]
    assert "/healthz" in health and "urllib" in health and "curl" not in health
    probe = exec_form(health.split("CMD", 1)[1])
    assert probe[:2] == ["python", "-c"]
    compile(probe[2], "<healthcheck>", "exec")  # the probe is valid Python


def test_dockerfile_environment_names_are_the_contracts_or_pythons():
    names = contract_variables()
    for kind, argument in dockerfile():
        if kind == "ENV":
            for key in re.findall(r"([A-Z][A-Z0-9_]*)=", argument):
                assert key in names or key.startswith(("PYTHON", "PIP_")), key


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    ignored = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", ".git", "*.db"} <= ignored
    copied = " ".join(a for k, a in dockerfile() if k == "COPY")
    assert not any(path in copied.split() for path in (".env", ".venv"))


def test_containers_listen_on_every_interface_while_rocket_defaults_to_loopback(compose):
    """Issue 17 finding 2: `rocket serve` binds 127.0.0.1 unless told; every compose service
    that runs it says --host 0.0.0.0 (the container's loopback is unreachable from the host)."""
    from entrypoints.cli import DEFAULT_HOST, build_parser

    assert DEFAULT_HOST == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
    for name in ("rocket", "rocket-dynamo"):
        command = compose["services"][name]["command"]
        command = command if isinstance(command, list) else shlex.split(command)
        assert command[0] == "serve" and command[command.index("--host") + 1] == "0.0.0.0", name
