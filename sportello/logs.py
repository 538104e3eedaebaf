"""How sportello's log lines look: readable text, or one JSON object per line for a log collector.

`[logging] format = "json"`: every record becomes {"time", "level", "logger",
"message", …} on one line (python-json-logger), with the request's reference
where the line is about one (`extra={"reference": …}`). What is logged is
the same either way: never a codice fiscale, a body, an image or a code.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.json import JsonFormatter

from config.settings import LoggingSettings

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(settings: LoggingSettings) -> None:
    """Give the root logger's handlers the configured format (the level is the command's business)."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(format=TEXT_FORMAT)
    if settings.format == "json":
        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            json_ensure_ascii=False,
        )
    else:
        formatter = logging.Formatter(TEXT_FORMAT)
    for handler in root.handlers:
        handler.setFormatter(formatter)
