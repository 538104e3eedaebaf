"""Settings: the TOML file, its embedded default, environment overrides."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
