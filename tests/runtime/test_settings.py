"""Settings precedence and errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.settings import SettingsError, load_settings


def test_settings_flags_override_environment_over_file(tmp_path: Path) -> None:
    settings_file = tmp_path / "outwire.toml"
    settings_file.write_text('log_level = "DEBUG"\nfunction_timeout_s = 5\nnode_close_timeout_s = 3\n')

    settings = load_settings(
        settings_file,
        environ={"OUTWIRE_FUNCTION_TIMEOUT_S": "7"},
        overrides={"log_level": "ERROR", "data_dir": None},
    )

    assert settings.log_level == "ERROR"
    assert settings.function_timeout_s == 7.0
    assert settings.node_close_timeout_s == 3.0


def test_settings_reject_unknown_key_naming_source(tmp_path: Path) -> None:
    settings_file = tmp_path / "outwire.toml"
    settings_file.write_text("funtion_timeout_s = 5\n")

    with pytest.raises(SettingsError, match=r"settings file .*outwire.toml: unknown setting 'funtion_timeout_s'"):
        load_settings(settings_file, environ={})


def test_settings_reject_bad_number_from_environment() -> None:
    with pytest.raises(SettingsError, match=r"environment variable OUTWIRE_HTTP_PORT: invalid value 'eighty'"):
        load_settings(environ={"OUTWIRE_HTTP_PORT": "eighty"})


def test_settings_reject_invalid_toml(tmp_path: Path) -> None:
    settings_file = tmp_path / "outwire.toml"
    settings_file.write_text("log_level = \n")

    with pytest.raises(SettingsError, match=r"is not valid TOML"):
        load_settings(settings_file, environ={})


def test_settings_reject_unreadable_settings_file(tmp_path: Path) -> None:
    settings_dir = tmp_path / "outwire.toml"
    settings_dir.mkdir()

    with pytest.raises(SettingsError, match=r"settings file .*outwire.toml cannot be read \(Is a directory\)"):
        load_settings(settings_dir, environ={})


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("OUTWIRE_FUNCTION_TIMEOUT_S", "-5", "expected a number of 0 or more"),
        ("OUTWIRE_FUNCTION_TIMEOUT_S", "nan", "expected a finite number"),
        ("OUTWIRE_FUNCTION_MEMORY_LIMIT_MB", "-1", "expected a number of 1 or more"),
        ("OUTWIRE_FUNCTION_MEMORY_LIMIT_MB", "0", "expected a number of 1 or more"),
        ("OUTWIRE_NODE_CLOSE_TIMEOUT_S", "0", "expected a number greater than 0"),
        ("OUTWIRE_HTTP_REQUEST_TIMEOUT_S", "-1", "expected a number greater than 0"),
        ("OUTWIRE_CONTEXT_FLUSH_INTERVAL_S", "-30", "expected a number of 0 or more"),
        ("OUTWIRE_HTTP_MAX_BODY_BYTES", "-1", "expected a number of 0 or more"),
        ("OUTWIRE_NODE_MESSAGE_BUFFER_MAX_LENGTH", "-1", "expected a number of 0 or more"),
        ("OUTWIRE_HTTP_PORT", "70000", "expected a port number from 0 to 65535"),
        ("OUTWIRE_HTTP_PORT", "-1", "expected a port number from 0 to 65535"),
    ],
)
def test_settings_reject_number_out_of_range(variable: str, value: str, reason: str) -> None:
    with pytest.raises(SettingsError, match=rf"environment variable {variable}: invalid value '{value}' .*\({reason}\)"):
        load_settings(environ={variable: value})


def test_settings_accept_zero_function_timeout_as_no_limit() -> None:
    settings = load_settings(environ={"OUTWIRE_FUNCTION_TIMEOUT_S": "0"})

    assert settings.function_timeout_s == 0.0


def test_settings_reject_unknown_log_level(tmp_path: Path) -> None:
    settings_file = tmp_path / "outwire.toml"
    settings_file.write_text('log_level = "LOUD"\n')

    with pytest.raises(SettingsError, match=r"invalid value 'LOUD' for log_level \(expected DEBUG, INFO, WARNING or ERROR\)"):
        load_settings(settings_file, environ={})


def test_settings_reject_unknown_context_store() -> None:
    with pytest.raises(SettingsError, match=r"invalid value 'redis' for context_default_store \(expected memory or file\)"):
        load_settings(environ={"OUTWIRE_CONTEXT_DEFAULT_STORE": "redis"})


def test_settings_store_url_defaults_to_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = load_settings(environ={"OUTWIRE_DATA_DIR": str(tmp_path)})

    assert settings.resolved_store_url() == f"sqlite:///{tmp_path / 'outwire.db'}"


def test_settings_parse_function_global_context_from_json_variable() -> None:
    settings = load_settings(environ={"OUTWIRE_FUNCTION_GLOBAL_CONTEXT": '{"region": "EU"}'})

    assert settings.function_global_context == {"region": "EU"}
