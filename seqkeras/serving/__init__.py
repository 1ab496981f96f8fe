"""Serving bundles over HTTP: an ASGI app (Starlette + uvicorn) with dynamic batching.

    seqkeras serve BUNDLE [--host 127.0.0.1] [--port 8080] [--workers N] [--backend onnx]

`seqkeras.serving.app` holds the routes (/v1/predict, the Open Inference Protocol v2, /metrics,
/healthz), `batching` the dynamic batcher, `protocol` the request and response bodies,
`runner` uvicorn and the socket, `ray` the Ray Serve deployment. None imports TensorFlow; the
`serve` extra installs what they need (`pip install 'seqkeras[serve]'`).
"""
