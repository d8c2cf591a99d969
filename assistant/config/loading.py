"""Loading the settings tree: YAML profiles, ``${VAR:default}`` expansion, environment overrides, and the
Markdown reference of every setting (docs/configuration.md). The tree itself is :mod:`assistant.settings`."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from assistant.errors import ConfigError
from assistant.settings import ENV_PREFIX, Settings

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


def _expand(value: object, env: Mapping[str, str]) -> object:
    """Replace ``${VAR}`` / ``${VAR:default}`` in every string of a YAML value."""
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            if m.group(1) in env:
                return env[m.group(1)]
            if m.group(2) is not None:
                return m.group(2)
            raise ConfigError(f"settings refer to ${{{m.group(1)}}}, which is not set: set it or give a default")
        return _VAR.sub(sub, value)
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    return value


def _expand_tree(tree: Mapping[str, object], env: Mapping[str, str]) -> dict[str, Any]:
    """Replace ``${VAR}`` / ``${VAR:default}`` in every string of a YAML tree."""
    return {k: _expand(v, env) for k, v in tree.items()}


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_yaml(text: str, where: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping of sections at the top level")
    return data


def _env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for key, raw in env.items():
        if not key.startswith(ENV_PREFIX) or "__" not in key:
            continue
        path = key[len(ENV_PREFIX):].lower().split("__")
        node = tree
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = yaml.safe_load(raw) if raw != "" else None
    return tree


def available_profiles() -> list[str]:
    names = [p.name for p in resources.files("assistant.config").iterdir()]
    return sorted(n[len("settings-"):-len(".yaml")] for n in names if n.startswith("settings-") and n.endswith(".yaml"))


def load_settings(
    profiles: list[str] | None = None,
    config_file: Path | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings tree. ``overrides`` (a nested dict) wins over everything, for tests."""
    env = os.environ if env is None else env
    config = resources.files("assistant.config")
    tree = _read_yaml(config.joinpath("settings.yaml").read_text("utf-8"), "settings.yaml")
    if profiles is None:
        profiles = [p.strip() for p in env.get("CONCIERGE_PROFILES", "").split(",") if p.strip()]
    for profile in profiles:
        resource = config.joinpath(f"settings-{profile}.yaml")
        if not resource.is_file():
            raise ConfigError(f"unknown settings profile {profile!r}: choose from {', '.join(available_profiles())}")
        tree = _merge(tree, _read_yaml(resource.read_text("utf-8"), resource.name))
    config_file = config_file or (Path(env["CONCIERGE_SETTINGS_FILE"]) if env.get("CONCIERGE_SETTINGS_FILE") else None)
    if config_file is not None:
        if not config_file.is_file():
            raise ConfigError(f"settings file {config_file} does not exist")
        tree = _merge(tree, _read_yaml(config_file.read_text("utf-8"), str(config_file)))
    tree = _expand_tree(tree, env)
    tree = _merge(tree, _env_overrides(env))
    if overrides:
        tree = _merge(tree, overrides)
    try:
        return Settings.model_validate(tree)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors())
        raise ConfigError(f"invalid settings: {problems}") from e


def settings_reference() -> str:
    """Markdown reference of every setting, generated from the model (docs/configuration.md)."""
    lines: list[str] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        rows, subs = [], []
        for name, info in model.model_fields.items():
            annotation = info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                subs.append((name, annotation))
                continue
            default = info.get_default(call_default_factory=True)
            if isinstance(default, SecretStr):
                default = "(secret)"
            env_name = ENV_PREFIX + "__".join((prefix + name).split(".")).upper()
            rows.append(f"| `{prefix}{name}` | `{default!s}` | `{env_name}` | {info.description or ''} |")
        if rows:
            lines.append(f"### `{prefix.rstrip('.') or 'root'}`\n")
            lines.append("| setting | default | environment variable | meaning |")
            lines.append("| --- | --- | --- | --- |")
            lines.extend(rows)
            lines.append("")
        for name, sub in subs:
            walk(sub, f"{prefix}{name}.")

    walk(Settings, "")
    return "\n".join(lines)
