"""boto3's retry policies against lakes3's fault injection, driven as a Python test suite would:
rules are set and cleared through the loopback REST endpoint /_lakes3/faults. With each retry mode
(legacy, boto3's default, and standard), a PutObject through 2 injected SlowDowns succeeds after
retrying, and one through 10 fails with botocore's own ClientError (SlowDown) and stores nothing.
Exits non-zero on any mismatch."""
import sys
import urllib.request

from botocore.exceptions import ClientError
from lakes3_boto3 import client as lakes3_client

endpoint, bucket = sys.argv[1], sys.argv[2]
ATTEMPTS = {"legacy": 5, "standard": 3}  # each mode's default total attempts


def faults(method, rule=None):
    req = urllib.request.Request(f"{endpoint}/_lakes3/faults", method=method, data=rule.encode() if rule else None, headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(req) as res:
        assert res.status in (200, 201), res.status


for mode, attempts in ATTEMPTS.items():
    s3 = lakes3_client(endpoint, retries={"mode": mode})
    key = f"main/boto3-faults/{mode}-ok.txt"
    faults("POST", f"op=PutObject,key=boto3-faults/{mode}-ok.txt,error=SlowDown,times=2")
    res = s3.put_object(Bucket=bucket, Key=key, Body=b"made it")
    assert res["ResponseMetadata"]["RetryAttempts"] == 2, (mode, res["ResponseMetadata"])
    assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == b"made it"

    key = f"main/boto3-faults/{mode}-never.txt"
    faults("POST", f"op=PutObject,key=boto3-faults/{mode}-never.txt,error=SlowDown,times=10")
    try:
        s3.put_object(Bucket=bucket, Key=key, Body=b"never")
        raise AssertionError(f"{mode}: put_object through 10 SlowDowns succeeded")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "SlowDown", (mode, err.response)
        assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 503, (mode, err.response)
        assert err.response["ResponseMetadata"]["RetryAttempts"] == attempts - 1, (mode, err.response["ResponseMetadata"])
    try:
        s3.head_object(Bucket=bucket, Key=key)
        raise AssertionError(f"{mode}: the failed put stored an object")
    except ClientError as err:
        assert err.response["Error"]["Code"] == "404", err.response
    faults("DELETE")

print("boto3 faults OK")
