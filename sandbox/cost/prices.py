"""The one price table: AWS list prices for us-east-1 (N. Virginia), each with the page it comes from.

Numbers are the public on-demand list prices as published on the AWS pricing pages named per entry
(read 2026-12-05; the build machine has no network, so they were not re-fetched at run time). Other
regions are priced with these numbers and reported as approximate: most regions list the same or
slightly higher request prices (e.g. eu-west-1 Lambda and SQS are equal, CloudWatch Logs ingestion is
$0.57/GB in some regions). `FREE_TIER` holds the always-free monthly allowances (`--free-tier`).
"""

from __future__ import annotations

from dataclasses import dataclass

PRICES_AS_OF = "2026-12-05"
PRICED_REGION = "us-east-1"


@dataclass(frozen=True)
class Price:
    usd: float
    """Per `per` units of `unit`."""
    per: float
    unit: str
    source: str

    def cost(self, quantity: float) -> float:
        return quantity * self.usd / self.per


SQS_PAGE = "https://aws.amazon.com/sqs/pricing/"
SNS_PAGE = "https://aws.amazon.com/sns/pricing/"
LAMBDA_PAGE = "https://aws.amazon.com/lambda/pricing/"
DYNAMODB_PAGE = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
S3_PAGE = "https://aws.amazon.com/s3/pricing/"
CLOUDWATCH_PAGE = "https://aws.amazon.com/cloudwatch/pricing/"
KMS_PAGE = "https://aws.amazon.com/kms/pricing/"
API_GATEWAY_PAGE = "https://aws.amazon.com/api-gateway/pricing/"

PRICES: dict[str, Price] = {
    # SQS: every API action is a request; each 64 KB chunk of a request's payload is billed as one
    # request; a batch of up to 10 messages is one request (per 64 KB chunk). First 100 billion/month tier.
    "sqs.standard": Price(0.40, 1e6, "request", SQS_PAGE),
    "sqs.fifo": Price(0.50, 1e6, "request", SQS_PAGE),
    # SNS standard topics: publishes; each 64 KB chunk of published data is billed as one request.
    # Deliveries to SQS queues: no charge (SNS pricing, "Amazon SQS" delivery row).
    "sns.publish": Price(0.50, 1e6, "request", SNS_PAGE),
    # SNS FIFO topics: per publish (64 KB chunk) plus per GB of payload published.
    "sns.fifo_publish": Price(0.30, 1e6, "request", SNS_PAGE),
    "sns.fifo_payload": Price(0.017, 1.0, "GB", SNS_PAGE),
    # Lambda: requests, and duration in GB-seconds (billed duration rounded up to 1 ms).
    "lambda.requests": Price(0.20, 1e6, "request", LAMBDA_PAGE),
    "lambda.gb_seconds.x86_64": Price(0.0000166667, 1.0, "GB-s", LAMBDA_PAGE),
    "lambda.gb_seconds.arm64": Price(0.0000133334, 1.0, "GB-s", LAMBDA_PAGE),
    # DynamoDB on-demand (Standard table class, after the November 2024 price reduction).
    "dynamodb.wru": Price(0.625, 1e6, "write request unit", DYNAMODB_PAGE),
    "dynamodb.rru": Price(0.125, 1e6, "read request unit", DYNAMODB_PAGE),
    # S3 Standard requests.
    "s3.put": Price(0.005, 1e3, "PUT/COPY/POST/LIST request", S3_PAGE),
    "s3.get": Price(0.0004, 1e3, "GET/SELECT request", S3_PAGE),
    # CloudWatch.
    "logs.ingestion": Price(0.50, 1.0, "GB ingested (Standard log class)", CLOUDWATCH_PAGE),
    "cloudwatch.alarm": Price(0.10, 1.0, "standard-resolution alarm metric-month", CLOUDWATCH_PAGE),
    "cloudwatch.dashboard": Price(3.00, 1.0, "dashboard-month", CLOUDWATCH_PAGE),
    # KMS: customer managed key per month, and API requests. Automatic rotation adds $1/month after
    # the first and again after the second rotation (capped there): year 1 is $1, year 3 on $3.
    "kms.key": Price(1.00, 1.0, "key-month", KMS_PAGE),
    "kms.requests": Price(0.03, 1e4, "request", KMS_PAGE),
    # API Gateway REST APIs (`http:` ingress), first 333 million requests a month. Not in the total: the
    # sandbox measures messages published straight to the entry (see `model.assumptions`).
    "apigateway.rest": Price(3.50, 1e6, "REST API request", API_GATEWAY_PAGE),
}

FREE_TIER: dict[str, float] = {
    # Always-free monthly allowances (not the 12-month offers), per account and region family.
    "sqs": 1e6,  # requests, standard and FIFO together
    "sns.publish": 1e6,  # publishes
    "lambda.requests": 1e6,
    "lambda.gb_seconds": 400_000,  # GB-s, both architectures together
    "logs.ingestion": 5.0,  # GB (shared with archive storage and Logs Insights scans)
    "cloudwatch.alarm": 10,  # standard-resolution alarm metrics
    "cloudwatch.dashboard": 3,  # dashboards of up to 50 metrics each
    "kms.requests": 20_000,
}
"""DynamoDB's always-free tier covers provisioned capacity and 25 GB of storage, not on-demand
requests; S3's free requests are a 12-month offer: neither is applied."""

SECONDS_PER_MONTH = 730 * 3600
"""AWS prices monthly items on 730 hours a month."""
