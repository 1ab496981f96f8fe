"""uvicorn's httptools protocol with a JSON 400 (see `seqkeras.serving.parsers`)."""

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from seqkeras.serving.parsers import BODY, HEADERS


class JsonErrorsHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` whose 400 for a malformed request line, headers or framing is JSON."""

    def send_400_response(self, msg):
        head = b"".join(name + b": " + value + b"\r\n" for name, value in HEADERS)
        self.transport.write(b"HTTP/1.1 400 Bad Request\r\n" + head + b"\r\n" + BODY)
        self.transport.close()
