"""The start-up check of a functional-verification node: its body, rendered into user data by node_check.

It runs unchanged on Amazon Linux 2023 with the system python3 (3.9) and nothing else: the standard library
only, no boto3. Credentials come from the instance profile through IMDSv2 and S3 requests are signed with
SigV4 here. Each check is a named step with a reason on failure; the result goes to the cloud's bucket and,
as one marked line, to the console, where the control plane still finds it when the bucket write failed.
"""
# Python 3.9 on the node: datetime.UTC and TimeoutError as socket.timeout came in 3.11 and 3.10.
# ruff: noqa: UP017, UP041

import datetime
import hashlib
import hmac
import http.server
import json
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request

MARKER = "CLOUDPLANE-FUNCTIONAL-VERIFICATION-RESULT"
TIMEOUT = 5.0


class Failed(Exception):
    """A check that failed, with the reason said for the user."""


class Node:
    """What the instance knows of itself, from its metadata service."""

    def __init__(self):
        default = "http://169.254.169.254"
        self.imds = (os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or default).rstrip("/")
        self.token = None
        self.region = self.zone = self.instance_id = self.role = None
        self.creds = None

    def get(self, path):
        if self.token is None:
            put = urllib.request.Request(
                self.imds + "/latest/api/token",
                method="PUT",
                headers={"X-aws-ec2-metadata-token-ttl-seconds": "900"},
            )
            self.token = urllib.request.urlopen(put, timeout=TIMEOUT).read().decode()
        get = urllib.request.Request(
            self.imds + "/latest/" + path, headers={"X-aws-ec2-metadata-token": self.token}
        )
        return urllib.request.urlopen(get, timeout=TIMEOUT).read().decode()

    def identify(self):
        try:
            self.instance_id = self.get("meta-data/instance-id").strip()
            self.region = self.get("meta-data/placement/region").strip()
            self.zone = self.get("meta-data/placement/availability-zone").strip()
        except (OSError, ValueError) as exc:
            raise Failed(f"the instance metadata service at {self.imds} did not answer: {exc}") from None
        return f"instance {self.instance_id} in {self.zone}"

    def credentials(self):
        try:
            profile = json.loads(self.get("meta-data/iam/info")).get("InstanceProfileArn", "?")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                raise Failed("the instance has no instance profile, so it has no AWS credentials") from None
            raise
        try:
            self.role = self.get("meta-data/iam/security-credentials/").strip().splitlines()[0]
        except (urllib.error.HTTPError, IndexError):
            raise Failed(
                f"the instance profile {profile} holds no role: add the cloud's instance role to it "
                "(aws iam add-role-to-instance-profile)"
            ) from None
        answer = json.loads(self.get("meta-data/iam/security-credentials/" + self.role))
        if answer.get("Code") != "Success" or "AccessKeyId" not in answer:
            said = f"{answer.get('Code')}: {answer.get('Message', '').strip()}"
            raise Failed(
                f"EC2 could not get credentials for role {self.role} of instance profile {profile} ({said}): "
                "the role's trust policy must let ec2.amazonaws.com call sts:AssumeRole"
            )
        self.creds = answer
        return f"role {self.role} of instance profile {profile}"


def sign(node, service, method, url, body, headers):
    """The headers of a SigV4-signed request made with the instance role's credentials."""
    parts = urllib.parse.urlsplit(url)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    signed = dict((k.lower(), v) for k, v in headers.items())
    signed.update(
        {
            "host": parts.netloc,
            "x-amz-date": stamp,
            "x-amz-content-sha256": payload,
            "x-amz-security-token": node.creds["Token"],
        }
    )
    names = sorted(signed)
    canonical = "\n".join(
        [
            method,
            parts.path or "/",
            parts.query,
            "".join(f"{n}:{str(signed[n]).strip()}\n" for n in names),
            ";".join(names),
            payload,
        ]
    )
    scope = "/".join([stamp[:8], node.region, service, "aws4_request"])
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    key = ("AWS4" + node.creds["SecretAccessKey"]).encode()
    for part in (stamp[:8], node.region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    to_sign = "\n".join(["AWS4-HMAC-SHA256", stamp, scope, digest])
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    credential = f"{node.creds['AccessKeyId']}/{scope}"
    signed["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return signed


def s3_url(node, bucket, key):
    """Path style on a given endpoint (as SDKs do), else the regional virtual-hosted endpoint."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    path = urllib.parse.quote(key, safe="/~")
    if endpoint:
        return f"{endpoint.rstrip('/')}/{bucket}/{path}"
    if "." in bucket:
        return f"https://s3.{node.region}.amazonaws.com/{bucket}/{path}"
    return f"https://{bucket}.s3.{node.region}.amazonaws.com/{path}"


def s3(node, method, bucket, key, body=b""):
    """(HTTP status, body) of an S3 object request; raises Failed when S3 cannot be reached."""
    url = s3_url(node, bucket, key)
    headers = {"content-type": "application/json"} if body else {}
    request = urllib.request.Request(
        url,
        data=body if method == "PUT" else None,
        method=method,
        headers=sign(node, "s3", method, url, body, headers),
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError as exc:
        raise Failed(
            f"S3 at {urllib.parse.urlsplit(url).netloc} could not be reached ({exc}): the node's subnet needs "
            "a route to S3 (an S3 gateway endpoint, an internet or a NAT gateway) and its security groups "
            "must allow tcp/443 out"
        ) from None


def s3_error(body):
    text = body.decode("utf-8", "replace")
    code = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""
    message = text.split("<Message>", 1)[1].split("</Message>", 1)[0] if "<Message>" in text else ""
    return (f"{code} ({message})" if message else code) or "no error code"


def refused(node, method, action, bucket, key, status, body):
    advice = {
        403: f"the instance role {node.role} needs {action} on arn:aws:s3:::{bucket}/* in its policies, "
        f"and the bucket policy of {bucket} must not deny it",
        404: f"the bucket {bucket} does not exist in this account",
    }.get(status, "S3 refused the request")
    return Failed(
        f"{method} s3://{bucket}/{key} as role {node.role} failed: HTTP {status} {s3_error(body)}: {advice}"
    )


def tcp(host, port, what, fix):
    started = time.monotonic()
    try:
        socket.create_connection((host, port), timeout=TIMEOUT).close()
    except (socket.timeout, TimeoutError):
        raise Failed(f"tcp/{port} to {host} ({what}) timed out after {TIMEOUT:.0f} s: {fix}") from None
    except OSError as exc:
        raise Failed(f"tcp/{port} to {host} ({what}) failed: {exc}: {fix}") from None
    return f"tcp/{port} to {host} ({what}) connected in {time.monotonic() - started:.2f} s"


class Checks:
    def __init__(self):
        self.steps = []

    def run(self, name, check, *args):
        started = time.monotonic()
        try:
            detail, state = check(*args), "passed"
        except Failed as exc:
            detail, state = str(exc), "failed"
        except Exception as exc:  # a check must end as a step, whatever went wrong
            detail, state = f"{type(exc).__name__}: {exc}", "failed"
        self.add(name, state, detail, time.monotonic() - started)
        return state == "passed"

    def add(self, name, state, detail, seconds=0.0):
        self.steps.append({"name": name, "state": state, "detail": detail, "seconds": round(seconds, 3)})
        print(f"[{state}] {name}: {detail}", flush=True)

    @property
    def passed(self):
        return all(step["state"] != "failed" for step in self.steps)


def bucket_checks(checks, node, params):
    bucket, key = params["bucket"], params["probe_key"]
    body = json.dumps({"run": params["run_id"], "instance": node.instance_id}).encode()

    def write():
        status, answer = s3(node, "PUT", bucket, key, body)
        if status != 200:
            raise refused(node, "PUT", "s3:PutObject", bucket, key, status, answer)
        return f"wrote s3://{bucket}/{key} as role {node.role}"

    def read():
        status, answer = s3(node, "GET", bucket, key)
        if status != 200:
            raise refused(node, "GET", "s3:GetObject", bucket, key, status, answer)
        if answer != body:
            raise Failed(f"s3://{bucket}/{key} read back differs from what was written")
        return f"read back the same {len(body)} bytes"

    def delete():
        status, answer = s3(node, "DELETE", bucket, key)
        if status not in (200, 204):
            raise refused(node, "DELETE", "s3:DeleteObject", bucket, key, status, answer)
        return f"deleted s3://{bucket}/{key}"

    if not checks.run("write an object to the bucket", write):
        checks.add("read it back", "skipped", "nothing was written")
        checks.add("delete it", "skipped", "nothing was written")
        return
    checks.run("read it back", read)
    checks.run("delete it", delete)


def efs_check(node, efs, groups):
    targets, file_system = efs["mount_targets"], efs["file_system_id"]
    address = targets.get(node.zone)
    if not address:
        raise Failed(
            f"file system {file_system} has no mount target in {node.zone}, the node's zone (it has them in "
            f"{', '.join(sorted(targets)) or 'none'}): create one in each zone of the cloud's subnets"
        )
    fix = (
        "the mount target's security groups must allow tcp/2049 in from the cloud's security groups "
        f"({', '.join(groups)}), and those must allow it out"
    )
    return tcp(address, 2049, f"the mount target of {file_system} in {node.zone}", fix)


def memorydb_check(memorydb, groups):
    port = int(memorydb["port"])
    fix = (
        f"the cluster's security groups must allow tcp/{port} in from the cloud's security groups "
        f"({', '.join(groups)}), and those must allow it out"
    )
    return tcp(memorydb["host"], port, f"MemoryDB cluster {memorydb['cluster']}", fix)


class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def listen(port, servers):
    servers.append(http.server.ThreadingHTTPServer(("", port), Health))
    return f"answering HTTP 200 on tcp/{port} for the load balancer's health check"


def main(params):
    checks = Checks()
    node = Node()
    groups = params["security_group_ids"]
    known = checks.run("instance metadata", node.identify)
    has_credentials = known and checks.run("credentials from the instance profile", node.credentials)
    if not known:
        checks.add("credentials from the instance profile", "skipped", "the instance does not know itself")
    if has_credentials:
        bucket_checks(checks, node, params)
    else:
        for name in ("write an object to the bucket", "read it back", "delete it"):
            checks.add(name, "skipped", "the node has no credentials")
    if not params.get("efs"):
        checks.add("EFS mount target", "skipped", "the cloud has no EFS")
    elif known:
        checks.run("EFS mount target", efs_check, node, params["efs"], groups)
    else:
        checks.add("EFS mount target", "skipped", "the node does not know its zone")
    if params.get("memorydb"):
        checks.run("MemoryDB endpoint", memorydb_check, params["memorydb"], groups)
    servers = []
    if params.get("serve_port"):
        checks.run("serve the health check", listen, params["serve_port"], servers)
    result = {
        "run_id": params["run_id"],
        "target": params["target"],
        "instance_id": node.instance_id,
        "zone": node.zone,
        "passed": checks.passed,
        "steps": checks.steps,
        "finished_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    line = json.dumps(result, separators=(",", ":"))
    if has_credentials:
        try:
            status, answer = s3(node, "PUT", params["bucket"], params["result_key"], line.encode())
            if status != 200:
                print(f"result not written to the bucket: HTTP {status} {s3_error(answer)}", flush=True)
        except Failed as exc:
            print(f"result not written to the bucket: {exc}", flush=True)
    print(f"{MARKER} {line}", flush=True)
    for server in servers:
        server.serve_forever()
    return 0 if checks.passed else 1
