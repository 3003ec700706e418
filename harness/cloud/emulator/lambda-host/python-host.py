# Runs one invocation of a customer's Python Lambda handler the way AWS's Python runtime does, for the
# emulator (harness/cloud/emulator/external-lambda.ts): `lambda_handler(event, context)` from the file,
# the event on stdin, the result (or error) as JSON on fd 3, stdout/stderr as the Lambda's log.
# boto3 (Debian's python3-boto3) reaches the emulator: every client and resource made without an
# explicit endpoint_url gets ZT_ENDPOINT_URL (this boto3 predates AWS_ENDPOINT_URL support).
import importlib.util
import json
import os
import sys
import time
import traceback

file, handler_name = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "lambda_handler")


def reply(body):
    os.write(3, json.dumps(body).encode())


def point_boto3_at_emulator():
    try:
        import boto3.session
    except ImportError:
        return
    endpoint = os.environ["ZT_ENDPOINT_URL"]
    for name in ("client", "resource"):
        original = getattr(boto3.session.Session, name)

        def made(self, *args, __original=original, **kwargs):
            kwargs.setdefault("endpoint_url", endpoint)
            return __original(self, *args, **kwargs)

        setattr(boto3.session.Session, name, made)


class Context:
    def __init__(self):
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ["ZT_LAMBDA_ARN"]
        self.memory_limit_in_mb = os.environ["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]
        self.aws_request_id = os.environ["ZT_REQUEST_ID"]
        self.log_group_name = "/aws/lambda/" + self.function_name
        self.log_stream_name = "zt-hil"
        self._deadline = time.time() + int(os.environ["ZT_LAMBDA_TIMEOUT_MS"]) / 1000

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


try:
    point_boto3_at_emulator()
    event = json.load(sys.stdin)
    spec = importlib.util.spec_from_file_location("lambda_function", file)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, os.path.dirname(os.path.abspath(file)))
    spec.loader.exec_module(module)
    handler = getattr(module, handler_name, None)
    if not callable(handler):
        raise AttributeError(f"{file} defines no function {handler_name}")
    result = handler(event, Context())
    sys.stdout.flush()
    reply({"result": result})
except Exception as e:  # the runtime reports any exception the same way
    traceback.print_exc()
    sys.stderr.flush()
    reply({"errorType": type(e).__name__, "errorMessage": str(e), "stack": traceback.format_exc().splitlines()})
    sys.exit(1)
