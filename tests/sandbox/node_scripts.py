"""Start-up scripts for sandbox instances, written as a node would run them: standard library only, credentials
and region from IMDSv2 (found through AWS_EC2_METADATA_SERVICE_ENDPOINT, as SDKs do), requests signed with
SigV4, results written as JSON to the bucket."""

from __future__ import annotations

import textwrap

_PRELUDE = '''\
#!/usr/bin/env python3
import datetime, hashlib, hmac, json, os, socket, sys, urllib.error, urllib.parse, urllib.request

IMDS = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://169.254.169.254/").rstrip("/")
_TOKEN = []


def imds(path):
    if not _TOKEN:
        put = urllib.request.Request(
            IMDS + "/latest/api/token", method="PUT",
            headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"},
        )
        _TOKEN.append(urllib.request.urlopen(put, timeout=5).read().decode())
    get = urllib.request.Request(IMDS + "/latest/" + path, headers={"X-aws-ec2-metadata-token": _TOKEN[0]})
    return urllib.request.urlopen(get, timeout=5).read().decode()


REGION = imds("meta-data/placement/region")
INSTANCE_ID = imds("meta-data/instance-id")
ENDPOINT = os.environ.get("AWS_ENDPOINT_URL") or "https://s3.%s.amazonaws.com" % REGION


def credentials():
    role = imds("meta-data/iam/security-credentials/").strip()
    return json.loads(imds("meta-data/iam/security-credentials/" + role))


def call(service, method, url, body=b"", headers=None):
    """A SigV4-signed request with the instance role's credentials: (status, body)."""
    creds = credentials()
    parts = urllib.parse.urlsplit(url)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(body).hexdigest()
    signed = {k.lower(): v for k, v in (headers or {}).items()}
    signed.update({"host": parts.netloc, "x-amz-date": stamp, "x-amz-content-sha256": payload,
                   "x-amz-security-token": creds["Token"]})
    names = sorted(signed)
    query = "&".join(sorted(
        urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~")
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ))
    canonical = "\\n".join([method, parts.path or "/", query,
                           "".join("%s:%s\\n" % (n, str(signed[n]).strip()) for n in names),
                           ";".join(names), payload])
    scope = "/".join([stamp[:8], REGION, service, "aws4_request"])
    to_sign = "\\n".join(["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + creds["SecretAccessKey"]).encode()
    for part in (stamp[:8], REGION, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    signed["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        creds["AccessKeyId"], scope, ";".join(names), signature)
    request = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method,
                                     headers=signed)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def s3(method, bucket, key, body=b""):
    url = "%s/%s/%s" % (ENDPOINT, bucket, urllib.parse.quote(key))
    return call("s3", method, url, body, {"content-type": "application/json"} if body else None)


def caller_arn():
    form = b"Action=GetCallerIdentity&Version=2011-06-15"
    status, body = call("sts", "POST", ENDPOINT + "/", form,
                        {"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
    text = body.decode()
    return text.split("<Arn>", 1)[1].split("</Arn>", 1)[0] if "<Arn>" in text else "error %s" % status


def error_code(body):
    text = body.decode(errors="replace")
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else ""


def tcp(host, port, timeout=5.0):
    """'open', or the error's class name, as a connection attempt from the node ends."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return "open"
    except OSError as error:
        return type(error).__name__


def report(bucket, result):
    status, body = s3("PUT", bucket, "results/%s.json" % INSTANCE_ID, json.dumps(result).encode())
    print("result written: %s %s" % (status, error_code(body)), flush=True)

'''


def node_script(body: str, **constants: object) -> str:
    """The prelude (imds, call, s3, caller_arn, tcp, report, ...), `NAME = value` for each constant, `body`."""
    assignments = "".join(f"{name} = {value!r}\n" for name, value in constants.items())
    return _PRELUDE + "\n" + assignments + textwrap.dedent(body).strip() + "\n"
