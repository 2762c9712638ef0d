"""Create the captured queues, topics, subscriptions, tables and buckets in the emulator.

Only what carries behaviour is created: queue attributes (delay, visibility, retention, redrive, FIFO,
policy), topics, SQS subscriptions with raw delivery / filter policy / filter scope / redrive policy,
DynamoDB tables with their key schema and TTL, S3 buckets. IAM, log groups, KMS keys, topic policies,
redrive-allow policies and non-SQS subscriptions (the alarm e-mail) are skipped: moto does not enforce
them and nothing in a run depends on them. Alarms are not created either; `sandbox.alarms` evaluates
the captured definitions against the final state instead (moto emits no AWS/SQS metrics).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from sandbox.clients import AwsClients
from sandbox.topology import QueueSpec, Topology


@dataclass
class Materialized:
    queues: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    subscriptions: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _dlq_first(queues: list[QueueSpec]) -> list[QueueSpec]:
    """A redrive policy may only name a queue that exists: create the targets first."""
    return sorted(queues, key=lambda q: q.dlq_arn is not None)


def _empty(aws: AwsClients, url: str) -> None:
    """PurgeQueue, or (purged less than 60 s ago, which SQS refuses) delete what is visible."""
    try:
        aws.sqs.purge_queue(QueueUrl=url)
        return
    except aws.sqs.exceptions.PurgeQueueInProgress:
        pass
    while True:
        got = aws.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            return
        entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)]
        aws.sqs.delete_message_batch(QueueUrl=url, Entries=entries)


def materialize(topology: Topology, aws: AwsClients, *, purge: bool = False) -> Materialized:
    """Create everything; `purge` empties existing queues (a long-lived emulator keeps old messages)."""
    done = Materialized()
    for q in _dlq_first(list(topology.queues.values())):
        aws.sqs.create_queue(QueueName=q.name, Attributes=q.attributes)
        if purge:
            _empty(aws, aws.sqs.get_queue_url(QueueName=q.name)["QueueUrl"])
        done.queues.append(q.name)
    for topic in topology.topics.values():
        kwargs = {"Attributes": topic.attributes} if topic.attributes else {}
        aws.sns.create_topic(Name=topic.name, **kwargs)
        done.topics.append(topic.name)
    for sub in topology.subscriptions:
        if sub.protocol != "sqs":
            done.skipped.append(f"{sub.protocol} subscription to {sub.topic_arn}")
            continue
        aws.sns.subscribe(
            TopicArn=sub.topic_arn,
            Protocol="sqs",
            Endpoint=sub.endpoint,
            Attributes=sub.attributes,
            ReturnSubscriptionArn=True,
        )
        done.subscriptions.append(f"{sub.topic_arn} -> {sub.endpoint}")
    existing_tables = set(aws.dynamodb.list_tables().get("TableNames", []))
    for table in topology.tables:
        if table.name not in existing_tables:
            keys = [{"AttributeName": table.hash_key, "KeyType": "HASH"}]
            if table.range_key:
                keys.append({"AttributeName": table.range_key, "KeyType": "RANGE"})
            aws.dynamodb.create_table(
                TableName=table.name,
                KeySchema=keys,
                AttributeDefinitions=[
                    {"AttributeName": name, "AttributeType": kind} for name, kind in table.attribute_types.items()
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            if table.ttl_attribute:
                aws.dynamodb.update_time_to_live(
                    TableName=table.name,
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        done.tables.append(table.name)
    for bucket in topology.buckets:
        kwargs = {} if aws.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": aws.region}}
        with contextlib.suppress(aws.s3.exceptions.BucketAlreadyOwnedByYou):
            aws.s3.create_bucket(Bucket=bucket, **kwargs)
        done.buckets.append(bucket)
    return done
