"""uvicorn's HTTP/1.1 protocols, answering requests they cannot parse with JSON, not plain text.

`protocol_class()` picks httptools (a C parser, uvicorn's fastest) when it is installed, else
h11 (pure Python, always there with uvicorn).
"""

import importlib.util
import json

MESSAGE = "invalid HTTP request: malformed request line, headers or body framing."
BODY = json.dumps({"error": MESSAGE}).encode()
HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(BODY)).encode()),
    (b"connection", b"close"),
]


def protocol_class():
    """The protocol class uvicorn should use (see the module docstring)."""
    if importlib.util.find_spec("httptools") is not None:
        from seqkeras.serving.parsers_httptools import JsonErrorsHttpToolsProtocol

        return JsonErrorsHttpToolsProtocol
    from seqkeras.serving.parsers_h11 import JsonErrorsH11Protocol

    return JsonErrorsH11Protocol
