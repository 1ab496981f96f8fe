"""uvicorn's h11 protocol, answering requests it cannot parse with JSON instead of plain text."""

import json

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class JsonErrorsH11Protocol(H11Protocol):
    """`H11Protocol` whose 400 for a malformed request line, headers or framing is JSON."""

    def send_400_response(self, msg):
        message = "invalid HTTP request: malformed request line, headers or body framing."
        body = json.dumps({"error": message}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()
