"""An internal service that calls Warden with API keys, the way a Python backend job would: grpcio with stubs that
grpc_tools.protoc generated from ../proto, and grpc_status for the google.rpc details of the refusals.

    python apikey_service.py --stubs DIR sign-up
        Signs up two new users through auth-svc's AuthService/SignUpEmail, the one who is to be the administrator and
        the one the keys are for, and prints {"admin": {"id", "email", "token"}, "user": {...}}. Making the first an
        administrator (`UPDATE "user" SET role = 'admin'`) is the operator's part, done between the two steps.

    WARDEN_ADMIN_TOKEN=... WARDEN_USER_TOKEN=... WARDEN_USER_ID=... python apikey_service.py --stubs DIR run
        Creates keys through auth-svc's ApiKeyService (the user's own full key; the administrator's keys for the user
        with server-only properties: read-only `task: [read]`, 2 requests a minute, one use), calls task-svc's
        TaskService with each as `x-api-key` metadata (and once as `authorization: Bearer`), revokes the full key, and
        prints one JSON summary of what every call answered (the test asserts on it).

auth-svc and task-svc are at WARDEN_AUTH_ADDR and WARDEN_TASK_ADDR (host:port, plaintext), as interop/run sets them.
`--stubs DIR` is where the generated `warden/...` modules are. Refusals are reported, not raised: a call's outcome is
{"ok": true, "response": {...}} or {"ok": false, "code": "PERMISSION_DENIED", "message", "errorInfo", "retryInfo"}.
Anything else that fails (a key that cannot be created, say) ends the program with a traceback and exit status 1.
"""

import argparse
import json
import os
import secrets
import sys

PASSWORD = "correct horse battery"
TIMEOUT = 10


def load_stubs(directory):
    """Imports the generated modules from `directory` (and the runtime pieces, which need nothing generated)."""
    sys.path.insert(0, directory)
    global grpc, json_format, rpc_status, error_details_pb2
    global auth_pb2, auth_pb2_grpc, api_key_pb2, api_key_pb2_grpc, task_pb2, task_pb2_grpc
    import grpc
    from google.protobuf import json_format
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status
    from warden.auth.v1 import api_key_pb2, api_key_pb2_grpc, auth_pb2, auth_pb2_grpc
    from warden.task.v1 import task_pb2, task_pb2_grpc


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set")
    return value


def as_dict(message):
    """A message as proto3 JSON (lowerCamelCase names), as grpcurl and the other clients print it."""
    return json_format.MessageToDict(message)


def refusal(error):
    """What a failed call answered: its code and message, and the google.rpc details of grpc-status-details-bin."""
    outcome = {"ok": False, "code": error.code().name, "message": error.details()}
    try:
        status = rpc_status.from_call(error)
    except ValueError as mismatch:
        # grpc_status refuses details whose code or message differ from the call's own.
        outcome["detailsError"] = str(mismatch)
        return outcome
    if status is None:
        return outcome
    outcome["detailTypes"] = [detail.type_url for detail in status.details]
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            outcome["errorInfo"] = {"reason": info.reason, "domain": info.domain, "metadata": dict(info.metadata)}
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            outcome["retryInfo"] = {
                "retryDelayMs": retry.retry_delay.seconds * 1000 + retry.retry_delay.nanos // 1_000_000,
            }
    return outcome


def attempt(method, request, metadata=()):
    """Calls `method`, returning its outcome whether it succeeds or is refused."""
    try:
        return {"ok": True, "response": as_dict(method(request, metadata=metadata, timeout=TIMEOUT))}
    except grpc.RpcError as error:
        return refusal(error)


def must(method, request, metadata=()):
    """Calls `method` and returns its answer; a refusal here is a failure of the program's own setup."""
    try:
        return method(request, metadata=metadata, timeout=TIMEOUT)
    except grpc.RpcError as error:
        raise RuntimeError(f"{method._method.decode()} refused: {json.dumps(refusal(error))}") from None


def bearer(token):
    return (("authorization", f"Bearer {token}"),)


def x_api_key(key):
    return (("x-api-key", key),)


def sign_up(auth, label):
    email = f"py-{label}-{secrets.token_hex(6)}@example.com"
    answer = must(
        auth.SignUpEmail,
        auth_pb2.SignUpEmailRequest(name=f"Python {label}", email=email, password=PASSWORD),
    )
    return {"id": answer.user.id, "email": email, "token": answer.token}


def key_summary(created):
    """A created key as the summary shows it: its properties, and the key's shape (never the key itself)."""
    summary = as_dict(created.api_key)
    summary["keyLength"] = len(created.key)
    summary["keyIsLetters"] = created.key.isalpha()
    summary["startIsKeyStart"] = created.key.startswith(created.api_key.start)
    return summary


def run(auth_channel, task_channel):
    admin_token = env("WARDEN_ADMIN_TOKEN")
    user_token = env("WARDEN_USER_TOKEN")
    user_id = env("WARDEN_USER_ID")
    keys = api_key_pb2_grpc.ApiKeyServiceStub(auth_channel)
    tasks = task_pb2_grpc.TaskServiceStub(task_channel)
    read_only = api_key_pb2.Permissions(grants=[api_key_pb2.Grant(resource="task", actions=["read"])])
    summary = {}

    # --- the keys ---------------------------------------------------------------------------------------------
    # The user's own key, from their session: no server-only property, so the package's defaults (10 a day).
    full = must(keys.CreateApiKey, api_key_pb2.CreateApiKeyRequest(name="python full"), bearer(user_token))
    daily = must(keys.CreateApiKey, api_key_pb2.CreateApiKeyRequest(name="python daily"), bearer(user_token))
    # The user may not set what only the server may: permissions are refused to them.
    summary["userSetsPermissions"] = attempt(
        keys.CreateApiKey,
        api_key_pb2.CreateApiKeyRequest(name="python mine", permissions=read_only),
        bearer(user_token),
    )
    # The administrator's keys for the user, with server-only properties.
    reader = must(
        keys.CreateApiKey,
        api_key_pb2.CreateApiKeyRequest(name="python read-only", user_id=user_id, permissions=read_only),
        bearer(admin_token),
    )
    limited = must(
        keys.CreateApiKey,
        api_key_pb2.CreateApiKeyRequest(
            name="python limited",
            user_id=user_id,
            rate_limit_enabled=True,
            rate_limit_max=2,
            rate_limit_time_window=60_000,
        ),
        bearer(admin_token),
    )
    metered = must(
        keys.CreateApiKey,
        api_key_pb2.CreateApiKeyRequest(name="python one use", user_id=user_id, remaining=1),
        bearer(admin_token),
    )
    summary["keys"] = {
        "full": key_summary(full),
        "daily": key_summary(daily),
        "readOnly": key_summary(reader),
        "limited": key_summary(limited),
        "metered": key_summary(metered),
    }

    # --- the full key: the user's rights ----------------------------------------------------------------------
    first = attempt(
        tasks.CreateTask,
        task_pb2.CreateTaskRequest(task=task_pb2.Task(title="Nightly export", description="from the Python service")),
        x_api_key(full.key),
    )
    second = attempt(
        tasks.CreateTask, task_pb2.CreateTaskRequest(task=task_pb2.Task(title="Weekly report")), x_api_key(full.key)
    )
    first_id = first.get("response", {}).get("id", "")
    summary["full"] = {
        "created": [first, second],
        "listed": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=20), x_api_key(full.key)),
        "got": attempt(tasks.GetTask, task_pb2.GetTaskRequest(id=first_id), x_api_key(full.key)),
        "listedWithBearer": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=20), bearer(full.key)),
        # The user's own session sees what the key made: the key acted as the user.
        "listedWithSession": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=20), bearer(user_token)),
    }

    # --- the read-only key: reads, and nothing else -----------------------------------------------------------
    summary["readOnly"] = {
        "listed": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=20), x_api_key(reader.key)),
        "got": attempt(tasks.GetTask, task_pb2.GetTaskRequest(id=first_id), x_api_key(reader.key)),
        "create": attempt(
            tasks.CreateTask, task_pb2.CreateTaskRequest(task=task_pb2.Task(title="Not allowed")), x_api_key(reader.key)
        ),
        "delete": attempt(tasks.DeleteTask, task_pb2.DeleteTaskRequest(id=first_id), x_api_key(reader.key)),
    }

    # --- the limited key: 2 requests a minute -----------------------------------------------------------------
    summary["limited"] = [
        attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=1), x_api_key(limited.key)) for _ in range(3)
    ]

    # --- the key with one use ---------------------------------------------------------------------------------
    summary["metered"] = [
        attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=1), x_api_key(metered.key)) for _ in range(2)
    ]

    # --- the default limit: 10 requests a day -----------------------------------------------------------------
    summary["daily"] = [
        attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=1), x_api_key(daily.key)) for _ in range(11)
    ]

    # --- revoking the full key --------------------------------------------------------------------------------
    summary["revoked"] = {
        "delete": attempt(keys.DeleteApiKey, api_key_pb2.DeleteApiKeyRequest(key_id=full.api_key.id), bearer(user_token)),
        "xApiKey": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=1), x_api_key(full.key)),
        "bearer": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=1), bearer(full.key)),
        # The other keys are untouched.
        "readOnlyAfter": attempt(tasks.ListTasks, task_pb2.ListTasksRequest(page_size=20), x_api_key(reader.key)),
        "remainingKeys": attempt(keys.ListApiKeys, api_key_pb2.ListApiKeysRequest(), bearer(user_token)),
    }
    return summary


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stubs", required=True, help="the directory grpc_tools.protoc generated into")
    parser.add_argument("step", choices=["sign-up", "run"])
    args = parser.parse_args()
    load_stubs(args.stubs)
    with grpc.insecure_channel(env("WARDEN_AUTH_ADDR")) as auth_channel, grpc.insecure_channel(
        env("WARDEN_TASK_ADDR")
    ) as task_channel:
        if args.step == "sign-up":
            auth = auth_pb2_grpc.AuthServiceStub(auth_channel)
            result = {"admin": sign_up(auth, "admin"), "user": sign_up(auth, "user")}
        else:
            result = run(auth_channel, task_channel)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
