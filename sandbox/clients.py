"""boto3 clients for the sandbox itself (publishing, polling, materialising), in-process or at an endpoint.

In-process, `moto.mock_aws` intercepts every boto3 call made in this process, the runtime's included.
With `--endpoint-url` the same clients talk to a moto server or LocalStack; the functions get the
endpoint through `AWS_ENDPOINT_URL` in their environment (boto3 honours it natively).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
"""Emulators accept any credentials; these keep boto3 from ever looking for real ones."""


class EndpointUnreachable(ConnectionError):
    """The `--endpoint-url` did not answer."""


@dataclass
class AwsClients:
    region: str
    endpoint_url: str | None
    sqs: Any
    sns: Any
    dynamodb: Any
    s3: Any

    @classmethod
    def create(cls, region: str, endpoint_url: str | None = None) -> AwsClients:
        session = boto3.session.Session(
            region_name=region,
            aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )
        # An emulator: fail fast when it is down (two tries, short timeouts: it is local). In-process: three
        # tries, as botocore's standard mode gives (`max_attempts` counts the retries only).
        config = Config(
            retries={"total_max_attempts": 2 if endpoint_url else 3, "mode": "standard"},
            connect_timeout=3 if endpoint_url else 60,
            read_timeout=30 if endpoint_url else 60,
        )

        def make(service: Any) -> Any:
            return session.client(service, endpoint_url=endpoint_url, config=config)

        return cls(region, endpoint_url, make("sqs"), make("sns"), make("dynamodb"), make("s3"))

    def check_reachable(self) -> None:
        """One cheap call, turned into a one-line error when the endpoint is down."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.sqs.list_queues(MaxResults=1)
        except ClientError:
            return  # it answered
        except BotoCoreError as exc:
            raise EndpointUnreachable(f"endpoint {self.endpoint_url} is unreachable: {exc}") from None

    def function_environment(self) -> dict[str, str]:
        """What the functions' environment needs on top of their own variables to reach the same AWS."""
        env = {"AWS_REGION": self.region, "AWS_DEFAULT_REGION": self.region}
        env.update(FAKE_CREDENTIALS)
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env
