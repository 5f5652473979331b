"""Runs Python guide examples one after another in this one interpreter, so that
each does not pay for starting Python and importing the generated client. Each
file runs as a script (runpy) with its own environment in os.environ and its
output captured; one JSON line per example on stdout: {file, code, output}.

    python3 test/docs/runners/python.py jobs.json
    jobs.json: [{"file": "/abs/example.py", "env": {"AETHERFLOW_API_URL": "..."}}, ...]
"""
import contextlib
import io
import json
import os
import runpy
import sys
import traceback

jobs = json.load(open(sys.argv[1]))
original_env = dict(os.environ)
stdout = sys.stdout

for job in jobs:
    os.environ.clear()
    os.environ.update(original_env)
    os.environ.update(job["env"])
    output = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        try:
            runpy.run_path(job["file"], run_name="__main__")
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        except BaseException:
            code = 1
            traceback.print_exc()
    stdout.write(json.dumps({"file": job["file"], "code": code, "output": output.getvalue()}) + "\n")
    stdout.flush()
