"""The `[call]` section: defaults, a file's values, and thresholds out of order refused in one line."""

import pytest

from config.settings import ConfigError, load_settings


def test_defaults_and_values(tmp_path):
    assert (load_settings().call.match_threshold, load_settings().call.doubt_threshold) == (0.5, 0.6)
    f = tmp_path / "c.toml"
    f.write_text("[call]\nmatch_threshold = 0.45\ndoubt_threshold = 0.55\n")
    assert load_settings(f).call.match_threshold == 0.45


@pytest.mark.parametrize("text", ["match_threshold = 0.7\ndoubt_threshold = 0.6", "match_threshold = -1",
                                  "tolerance = 0.6"])
def test_bad_values_are_refused(tmp_path, text):
    f = tmp_path / "c.toml"
    f.write_text(f"[call]\n{text}\n")
    with pytest.raises(ConfigError) as e:
        load_settings(f)
    assert "\n" not in str(e.value) and "call" in str(e.value)


def test_the_example_config_loads(monkeypatch):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "deploy" / "sportello.toml.example"
    assert "[call]" in example.read_text()
    monkeypatch.setenv("SPORTELLO_SECRET_KEY", "x" * 64)
    assert load_settings(example).call.doubt_threshold == 0.6
