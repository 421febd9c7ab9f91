"""The boto3 client the Python client tests use: lakes3's endpoint, the key pair from the
environment, region us-east-1, and any botocore Config options (signature_version, retries…)."""
import os

import boto3
from botocore.config import Config


def client(endpoint, **config):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=Config(**config),
    )
