"""uvicorn's h11 protocol with a JSON 400 (see `seqkeras.serving.parsers`)."""

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from seqkeras.serving.parsers import BODY, HEADERS


class JsonErrorsH11Protocol(H11Protocol):
    """`H11Protocol` whose 400 for a malformed request line, headers or framing is JSON."""

    def send_400_response(self, msg):
        for event in (
            h11.Response(status_code=400, headers=HEADERS, reason=b"Bad Request"),
            h11.Data(data=BODY),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event))
        self.transport.close()
