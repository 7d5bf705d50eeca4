"""uvicorn's logging for `tmsops serve`: no access line by default, one JSON line per request when asked.

A line per request to stdout costs throughput and says little by default; when ``TMS_ACCESS_LOG=true`` each
request is one JSON object (time, client, method, path, HTTP version, status) a log shipper can parse. The
query string is left out: search terms can be patient names, and the audit trail is where reads are recorded.
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

from uvicorn.config import LOGGING_CONFIG


class JsonAccessFormatter(logging.Formatter):
    """Formats uvicorn's access record (client, method, full path, HTTP version, status) as one JSON line."""

    def format(self, record: logging.LogRecord) -> str:
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) != 5:  # not the access record uvicorn writes: keep its message
            return json.dumps({"time": _iso(record.created), "message": record.getMessage()})
        client, method, full_path, http_version, status = args
        return json.dumps({
            "time": _iso(record.created), "client": client, "method": method,
            "path": str(full_path).split("?", 1)[0], "http": http_version, "status": status,
        }, separators=(",", ":"))


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the access formatter replaced by the JSON one."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"] = {"()": f"{__name__}.JsonAccessFormatter"}
    return config
