"""The OpenAPI 3 schema of a server's routes, built from its bundle's contract."""

from seqkeras.serving.protocol import INPUT_NAME, input_datatype

JSON_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean"}


def _error_responses(*statuses):
    error = {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    }
    return {
        str(status): {
            "description": "error",
            "content": {"application/json": {"schema": error}},
        }
        for status in statuses
    }


def _input_schema(bundle):
    if bundle.input_kind == "arrays":
        number_array = {"type": "array", "items": {"type": "number"}}
        return {"type": "array", "items": {"oneOf": [number_array, {"type": "array"}]}}
    return {"type": "string"}


def _options_schema(bundle):
    properties = {}
    for name, option in bundle.options.items():
        if option.type is None:
            continue
        described = option.to_json()
        schema = {"type": JSON_TYPES[described["type"]]}
        if described["min"] is not None:
            schema["minimum"] = described["min"]
        if described["max"] is not None:
            schema["maximum"] = described["max"]
        if described["nullable"]:
            schema["nullable"] = True
        properties[name] = schema
    return {"type": "object", "properties": properties, "additionalProperties": False}


def openapi_schema(service):
    """The schema of `service`'s routes (`GET /openapi.json`)."""
    bundle = service.bundle
    predict_body = {
        "type": "object",
        "properties": {
            "inputs": {
                "type": "array",
                "minItems": 1,
                "maxItems": bundle.limits["inputs"],
                "items": _input_schema(bundle),
            },
            "options": _options_schema(bundle),
            "scores": {"type": "boolean"},
        },
        "required": ["inputs"],
        "additionalProperties": False,
    }
    tensor = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": [INPUT_NAME]},
            "datatype": {"type": "string", "enum": [input_datatype(bundle)]},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
            "data": {"type": "array"},
        },
        "required": ["name", "datatype", "shape", "data"],
    }
    infer_body = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "inputs": {"type": "array", "items": tensor, "minItems": 1, "maxItems": 1},
            "parameters": _options_schema(bundle),
        },
        "required": ["inputs"],
    }
    json_ok = {"description": "ok", "content": {"application/json": {"schema": {"type": "object"}}}}
    name = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}

    def get(summary):
        return {"get": {"summary": summary, "responses": {"200": json_ok, **_error_responses(503)}}}

    def post(summary, body, parameters=()):
        return {
            "post": {
                "summary": summary,
                "parameters": list(parameters),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": body}},
                },
                "responses": {"200": json_ok, **_error_responses(400, 404, 413, 503, 504)},
            }
        }

    model_get = get("model metadata")
    model_get["get"]["parameters"] = [name]
    model_ready = get("model readiness")
    model_ready["get"]["parameters"] = [name]
    return {
        "openapi": "3.0.3",
        "info": {"title": f"seqkeras serve: {service.name}", "version": "1"},
        "paths": {
            "/healthz": get("health and the bundle's contract"),
            "/v1/predict": post("predict", predict_body),
            "/v2": get("server metadata"),
            "/v2/health/live": get("liveness"),
            "/v2/health/ready": get("readiness"),
            "/v2/models/{name}": model_get,
            "/v2/models/{name}/ready": model_ready,
            "/v2/models/{name}/infer": post("infer (Open Inference Protocol)", infer_body, [name]),
        },
    }
