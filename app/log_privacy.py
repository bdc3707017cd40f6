"""R9: gunicorn's logs in the same pipeline as every other line (call_flows/logs.py), numbers masked.

`MaskingGunicornLogger`, gunicorn's logger class (set in `gunicorn.conf.py`, which gunicorn reads from
the working directory): its access log's request line, path, query and referer have phone numbers
masked in any format (`call_flows.log_masking.mask_url`), and both its logs are formatted by the
structlog formatter (JSON lines in production), whose processor masks numbers in the text as well.
"""
import os

from gunicorn.glogging import Logger as GunicornLogger

from call_flows import logs
from call_flows.log_masking import mask_request_line, mask_url

URL_ATOMS = ("r", "U", "q", "f", "{raw_uri}e", "{path_info}e", "{query_string}e", "{request_uri}e", "{referer}i")


class MaskingGunicornLogger(GunicornLogger):
    """gunicorn's logger with caller numbers masked in the access log's URL atoms and both logs' text."""

    region = os.environ.get("DEFAULT_REGION") or "GB"

    def setup(self, cfg) -> None:
        super().setup(cfg)
        formatter = logs.formatter(logs.wants_json(os.environ), self.region)
        for handler in self.error_log.handlers + self.access_log.handlers:
            handler.setFormatter(formatter)

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in URL_ATOMS:
            value = atoms.get(key)
            if not isinstance(value, str):
                continue
            if key == "r":
                atoms[key] = mask_request_line(value, self.region)
            elif key in ("q", "{query_string}e"):
                atoms[key] = mask_url("?" + value, self.region)[1:]
            else:
                atoms[key] = mask_url(value, self.region)
        return atoms
