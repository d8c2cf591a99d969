"""Settings: defaults, profiles, ${VAR:default} expansion, env overrides, clear errors, documented."""

from pathlib import Path

import pytest

from assistant.config.loading import available_profiles, load_settings, settings_reference
from assistant.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_defaults_are_sqlite_chroma_on_disk_and_bundled_models() -> None:
    s = load_settings(env={})

    assert s.database_url == f"sqlite:///{Path('data') / 'concierge.db'}"
    assert (s.knowledge.mode, s.embeddings.mode, s.llm.mode, s.agent.mode) == (
        "persistent", "bundled", "llamacpp", "graph")
    assert s.chroma_path == Path("data") / "chroma"


def test_test_and_scale_profiles_exist() -> None:
    assert {"test", "scale"} <= set(available_profiles())


def test_profile_from_env_is_merged_over_defaults() -> None:
    s = load_settings(env={"CONCIERGE_PROFILES": "test"})

    assert (s.knowledge.mode, s.embeddings.mode, s.llm.mode) == ("ephemeral", "hash", "scripted")
    assert s.app.port == 7860  # untouched by the profile


def test_scale_profile_expands_variables_with_defaults() -> None:
    s = load_settings(["scale"], env={"CONCIERGE_CHROMA_URL": "http://chroma:8000"})

    assert s.knowledge.server_url == "http://chroma:8000"
    assert s.database_url.startswith("postgresql+psycopg://")


def test_env_override_wins_over_profile_and_is_typed() -> None:
    s = load_settings(["test"], env={"CONCIERGE_LLM__MODE": "openai", "CONCIERGE_APP__PORT": "9000",
                                     "CONCIERGE_LLM__OPENAI__MODEL": "qwen"})

    assert (s.llm.mode, s.app.port, s.llm.openai.model) == ("openai", 9000, "qwen")


def test_user_file_is_merged(tmp_path: Path) -> None:
    f = tmp_path / "mine.yaml"
    f.write_text("agent:\n  policy_k: 5\n", encoding="utf-8")

    assert load_settings(config_file=f, env={}).agent.policy_k == 5


def test_unknown_profile_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="choose from .*scale.*test"):
        load_settings(["nope"], env={})


def test_invalid_value_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="llm.mode"):
        load_settings(env={"CONCIERGE_LLM__MODE": "gpt9"})


def test_unknown_setting_is_rejected() -> None:
    with pytest.raises(ConfigError, match="colour"):
        load_settings(env={"CONCIERGE_APP__COLOUR": "red"})


def test_secrets_are_masked_when_printed() -> None:
    dumped = load_settings(env={"CONCIERGE_TOKEN_SECRET": "s3cret"}).model_dump_json()

    assert "s3cret" not in dumped


def test_every_setting_is_documented_in_docs_configuration() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")

    assert settings_reference() in doc, "regenerate with: concierge settings --docs"
