"""Cold import time of the built Lambda functions, under Python 3.12, each run in a fresh process.

    python3 bench/bench_lambda_imports.py BUILD_DIR CORE_LAYER_DIR PARSERS_LAYER_DIR RUNTIME_DIR [RUNS]

BUILD_DIR is .aws-sam/build (the functions' code); CORE_LAYER_DIR and PARSERS_LAYER_DIR are the python/
folders of the two layers (built for arm64: on an x86_64 machine, copies whose compiled extensions are swapped
for x86_64 wheels of the same versions, see docs/benchmarks.md); the query function gets the core layer only,
the ingest function both, as template.yaml attaches them. RUNTIME_DIR is a folder with boto3 installed for
Python 3.12 (what the Lambda runtime provides). Prints the median wall and CPU milliseconds to import the
handler module (the query function's import creates the FastAPI app) and, for ingest, to also wire its
services (SDK clients, pipeline), and checks that the query function loaded no parser library.
"""

import json
import os
import statistics
import subprocess
import sys

ENV = {"PYENV_VERSION": "3.12.1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
       "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "SLUICE_BACKEND": "aws", "SLUICE_DOCUMENTS_BUCKET": "b",
       "SLUICE_REGISTRY_TABLE": "t", "SLUICE_OPENSEARCH_ENDPOINT": "search.example.com", "SLUICE_GENERATOR": "bedrock",
       "SLUICE_STATE_DIR": "/tmp/sluice-measure", "POWERTOOLS_SERVICE_NAME": "sluice", "SLUICE_FEEDBACK_TABLE": "f",
       "PYDANTIC_DISABLE_PLUGINS": "__all__"}  # as template.yaml sets it
PARSER_LIBRARIES = ("pypdfium2", "docx", "lxml", "selectolax")
CODE = """
import time; w=time.perf_counter(); c=time.process_time()
import app
w1, c1 = time.perf_counter(), time.process_time()
if hasattr(app, 'processor'):
    app.container.ingest  # builds the S3, DynamoDB, Bedrock and OpenSearch clients and the text pipeline
import json, sys
parsers = sorted(m for m in sys.modules if m.split('.')[0] in PARSERS)
print(json.dumps([(w1-w)*1000, (c1-c)*1000, (time.perf_counter()-w)*1000, (time.process_time()-c)*1000, parsers]))
"""


def main() -> None:
    build, core, parsers, runtime = sys.argv[1:5]
    runs = int(sys.argv[5]) if len(sys.argv) > 5 else 9
    env = {**os.environ, **ENV}
    code = f"PARSERS = {PARSER_LIBRARIES!r}\n" + CODE
    for fn, layers in (("QueryFunction", [core]), ("IngestFunction", [core, parsers])):
        env["PYTHONPATH"] = os.pathsep.join([f"{build}/{fn}", *layers, runtime])
        results = []
        for _ in range(runs):
            out = subprocess.run(["python3.12", "-c", code], env=env, capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout))
        if fn == "QueryFunction" and results[0][4]:
            raise SystemExit(f"the query function imported parser libraries: {results[0][4]}")
        med = [round(statistics.median(r[i] for r in results)) for i in range(4)]
        print(f"{fn}: import wall {med[0]} ms, cpu {med[1]} ms; import + wire services wall {med[2]} ms, "
              f"cpu {med[3]} ms (median of {runs}, fastest import {round(min(r[0] for r in results))} ms)")


if __name__ == "__main__":
    main()
