"""A minimal Lambda Runtime API loop around handler.handler (what the managed Python runtime
does, without its extras): import the handler module (module-level clients = the cold start),
then GET next / POST response forever."""
import json
import os
import urllib.request

import handler  # noqa: E402  (import time is part of the cold start, as on Lambda)

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"


def main():
    while True:
        with urllib.request.urlopen(API + "next") as r:
            request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
            event = json.loads(r.read())
        try:
            body = json.dumps(handler.handler(event, None)).encode()
            url = API + request_id + "/response"
        except Exception as e:  # report like the managed runtime does
            body = json.dumps({"errorType": type(e).__name__, "errorMessage": str(e)}).encode()
            url = API + request_id + "/error"
        urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST")).read()


main()
