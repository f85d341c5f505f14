#!/bin/sh
# Started by the Lambda Web Adapter (AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap), which forwards the Function URL's
# requests to $PORT and streams the responses back (AWS_LWA_INVOKE_MODE=response_stream).
# The app is the same one the query function serves; its tenant is SLUICE_TENANT (no JWT on this path).
export PYTHONPATH="/opt/python:${LAMBDA_TASK_ROOT:-/var/task}:/var/runtime${PYTHONPATH:+:$PYTHONPATH}"
exec python3 -m uvicorn --factory sluice.api.app:create_app --host 127.0.0.1 --port "${PORT:-8080}" --no-access-log
