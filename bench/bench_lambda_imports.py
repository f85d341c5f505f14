"""Cold import time of the built Lambda functions, under Python 3.12, each run in a fresh process.

    python3 bench/bench_lambda_imports.py BUILD_DIR LAYER_PYTHON_DIR RUNTIME_DIR [RUNS]

BUILD_DIR is .aws-sam/build (the functions' code), LAYER_PYTHON_DIR the layer's python/ folder (built for
arm64: on an x86_64 machine, a copy whose compiled extensions are swapped for x86_64 wheels of the same
versions, see docs/benchmarks.md), RUNTIME_DIR a folder with boto3 installed for Python 3.12 (what the Lambda
runtime provides). Prints the median wall and CPU milliseconds to import the handler module (the query
function's import creates the FastAPI app) and, for ingest, to also wire its services (SDK clients, pipeline).
"""

import json
import os
import statistics
import subprocess
import sys

ENV = {"PYENV_VERSION": "3.12.1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
       "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y", "SLUICE_BACKEND": "aws", "SLUICE_DOCUMENTS_BUCKET": "b",
       "SLUICE_REGISTRY_TABLE": "t", "SLUICE_OPENSEARCH_ENDPOINT": "search.example.com", "SLUICE_GENERATOR": "bedrock",
       "SLUICE_STATE_DIR": "/tmp/sluice-measure", "POWERTOOLS_SERVICE_NAME": "sluice"}
CODE = """
import time; w=time.perf_counter(); c=time.process_time()
import app
w1, c1 = time.perf_counter(), time.process_time()
if hasattr(app, 'processor'):
    app.container.ingest  # builds the S3, DynamoDB, Bedrock and OpenSearch clients and the text pipeline
import json; print(json.dumps([(w1-w)*1000, (c1-c)*1000, (time.perf_counter()-w)*1000, (time.process_time()-c)*1000]))
"""


def main() -> None:
    build, layer, runtime = sys.argv[1:4]
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 9
    env = {**os.environ, **ENV}
    for fn in ("QueryFunction", "IngestFunction"):
        env["PYTHONPATH"] = os.pathsep.join([f"{build}/{fn}", layer, runtime])
        results = []
        for _ in range(runs):
            out = subprocess.run(["python3.12", "-c", CODE], env=env, capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout))
        med = [round(statistics.median(r[i] for r in results)) for i in range(4)]
        print(f"{fn}: import wall {med[0]} ms, cpu {med[1]} ms; import + wire services wall {med[2]} ms, "
              f"cpu {med[3]} ms (median of {runs}, fastest import {round(min(r[0] for r in results))} ms)")


if __name__ == "__main__":
    main()
