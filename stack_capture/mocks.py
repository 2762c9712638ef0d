"""Pulumi mocks that answer like AWS (and moto) would: computed names, ARNs and URLs per resource type.

ARNs are in the region's partition (`arn:aws-cn:` in China, `arn:aws-us-gov:` in GovCloud), as AWS makes them.

Account `123456789012` and the stack's region are also moto's defaults, so captured ARNs, URLs and
Lambda environment variables work unchanged against moto. Names are deterministic per logical name.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

from contract import aws as contract

ACCOUNT_ID = "123456789012"


def _suffix(name: str) -> str:
    return hashlib.sha1(name.encode()).hexdigest()[:7]


def _prefixed_unique_name(prefix: str | None, logical_name: str) -> str | None:
    """`bucket_prefix` + 26 digits, the length of the provider's unique suffix (a timestamp and a counter)."""
    if not prefix:
        return None
    digits = str(int(hashlib.sha1(f"{prefix}{logical_name}".encode()).hexdigest(), 16))
    return prefix + digits[:26]


class AwsMocks(pulumi.runtime.Mocks):
    """Computed attributes the way AWS (and moto) spell them, deterministic per logical name."""

    def __init__(self, region: str, account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account = account_id

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        r, a, p = self.region, self.account, contract.partition_of(self.region)
        name = inputs.get("name") or f"{args.name}-{_suffix(args.name)}"
        t = args.typ
        out: dict[str, Any] = dict(inputs)
        if t == "aws:sqs/queue:Queue":
            url = f"https://sqs.{r}.amazonaws.com{'.cn' if p == 'aws-cn' else ''}/{a}/{name}"
            out |= {"name": name, "arn": f"arn:{p}:sqs:{r}:{a}:{name}", "url": url}
            return url, out
        if t == "aws:sns/topic:Topic":
            arn = f"arn:{p}:sns:{r}:{a}:{name}"
            return arn, out | {"name": name, "arn": arn}
        if t == "aws:sns/topicSubscription:TopicSubscription":
            arn = f"{inputs.get('topic')}:{_suffix(args.name)}"
            return arn, out | {"arn": arn}
        if t == "aws:lambda/function:Function":
            arn = f"arn:{p}:lambda:{r}:{a}:function:{name}"
            return name, out | {"name": name, "arn": arn, "qualifiedArn": f"{arn}:$LATEST", "version": "$LATEST"}
        if t == "aws:iam/role:Role":
            return name, out | {"name": name, "arn": f"arn:{p}:iam::{a}:role/{name}"}
        if t == "aws:cloudwatch/logGroup:LogGroup":
            return name, out | {"name": name, "arn": f"arn:{p}:logs:{r}:{a}:log-group:{name}"}
        if t == "aws:dynamodb/table:Table":
            return name, out | {"name": name, "arn": f"arn:{p}:dynamodb:{r}:{a}:table/{name}"}
        if t == "aws:kms/key:Key":
            key_id = f"{_suffix(args.name)}-0000-4000-8000-{_suffix(args.name + 'k')}00000"
            return key_id, out | {"keyId": key_id, "arn": f"arn:{p}:kms:{r}:{a}:key/{key_id}"}
        if t == "aws:s3/bucket:Bucket":
            bucket = inputs.get("bucket") or _prefixed_unique_name(inputs.get("bucketPrefix"), args.name) or name
            return bucket, out | {"bucket": bucket, "arn": f"arn:{p}:s3:::{bucket}"}
        if t == "aws:cloudwatch/metricAlarm:MetricAlarm":
            return name, out | {"name": name, "arn": f"arn:{p}:cloudwatch:{r}:{a}:alarm:{name}"}
        if t == "aws:lambda/eventSourceMapping:EventSourceMapping":
            return _suffix(args.name), out | {"uuid": _suffix(args.name), "state": "Enabled"}
        return f"{args.name}-id", out

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": self.account,
                "arn": f"arn:{contract.partition_of(self.region)}:iam::{self.account}:user/sandbox",
                "userId": "SANDBOX",
                "id": self.account,
            }, []
        if args.token == "aws:index/getPartition:getPartition":
            partition = contract.partition_of(self.region)
            return {"partition": partition, "id": partition}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if args.token == "aws:ssm/getParameter:getParameter":
            return self._ssm_parameter(str(args.args.get("name", ""))), []
        return {}, []

    def _ssm_parameter(self, name: str) -> dict[str, Any]:
        """Public parameters the program reads: Powertools' layer per release (`.../{arch}/python3.13/{version}`).

        The value is the shape Powertools publishes (`AWSLambdaPowertoolsPythonV3-python313-{arch}:{N}`); the
        layer version number N is AWS's to assign, so the mock answers 1.
        """
        value = ""
        parts = name.split("/")
        if name.startswith("/aws/service/powertools/python/") and len(parts) == 8:
            architecture, runtime = parts[5], parts[6].replace(".", "")
            if not contract.powertools_ssm_published(self.region):
                raise Exception(f"ParameterNotFound: {name} is not published in {self.region}")
            value = (
                f"arn:{contract.partition_of(self.region)}:lambda:{self.region}:{contract.POWERTOOLS_LAYER_ACCOUNT}:layer:"
                f"AWSLambdaPowertoolsPythonV3-{runtime}-{architecture}:1"
            )
        return {
            "name": name,
            "value": value,
            "insecureValue": value,
            "type": "String",
            "arn": f"arn:{contract.partition_of(self.region)}:ssm:{self.region}::parameter{name}",
            "version": 1,
            "withDecryption": True,
            "id": name,
        }
