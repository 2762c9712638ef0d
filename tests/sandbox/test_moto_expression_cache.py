"""sandbox.moto_expression_cache changes how fast moto answers DynamoDB calls, never what it answers."""

from __future__ import annotations

import importlib
from contextlib import nullcontext
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from sandbox.moto_expression_cache import cached_expression_parsing

REGION = "us-east-1"

POWERTOOLS_CONDITION = (
    "attribute_not_exists(#id) OR #expiry < :now OR "
    "(#status = :inprogress AND attribute_exists(#in_progress_expiry) AND #in_progress_expiry < :now_in_millis)"
)
POWERTOOLS_NAMES = {"#id": "id", "#expiry": "expiration", "#in_progress_expiry": "in_progress_expiration",
                    "#status": "status"}
POWERTOOLS_UPDATE = "SET #response_data = :response_data, #expiry = :expiry, #status = :status"


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _put_inprogress(key: str, now: int, expiry: int, in_progress_expiry: int) -> dict[str, Any]:
    """Powertools' `_put_record` call, as DynamoDBPersistenceLayer makes it."""
    return {
        "TableName": "idem",
        "Item": {"id": {"S": key}, "expiration": _n(expiry), "status": {"S": "INPROGRESS"},
                 "in_progress_expiration": _n(in_progress_expiry)},
        "ConditionExpression": POWERTOOLS_CONDITION,
        "ExpressionAttributeNames": POWERTOOLS_NAMES,
        "ExpressionAttributeValues": {":now": _n(now), ":now_in_millis": _n(now * 1000),
                                      ":inprogress": {"S": "INPROGRESS"}},
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def _save_success(key: str, expiry: int, data: str, **extra: Any) -> dict[str, Any]:
    """Powertools' `_update_record` call."""
    return {
        "TableName": "idem",
        "Key": {"id": {"S": key}},
        "UpdateExpression": POWERTOOLS_UPDATE,
        "ExpressionAttributeNames": {"#expiry": "expiration", "#response_data": "data", "#status": "status"},
        "ExpressionAttributeValues": {":expiry": _n(expiry), ":response_data": {"S": data},
                                      ":status": {"S": "COMPLETED"}},
        **extra,
    }


def _idempotency_table(client: Any) -> None:
    """The table Powertools' DynamoDB persistence layer writes to (hash key `id`)."""
    client.create_table(TableName="idem", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")


def _update(key: str, expression: str, values: dict[str, Any] | None = None,
            names: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    call: dict[str, Any] = {"TableName": "items", "Key": {"pk": {"S": key}, "sk": _n(1)},
                            "UpdateExpression": expression, "ReturnValues": "ALL_NEW", **extra}
    if values:
        call["ExpressionAttributeValues"] = values
    if names:
        call["ExpressionAttributeNames"] = names
    return call


def _calls() -> list[tuple[str, dict[str, Any]]]:
    """Each expression at least twice with other values/items, so the second use meets the cache."""
    now = 1_700_000_000
    nested = {"M": {"b": {"L": [_n(1), _n(2), _n(3)]}}}
    return [
        # Powertools idempotency: new key, duplicate (fails, old item returned), expired, in-progress expired
        ("put_item", _put_inprogress("k1", now, now + 3600, (now + 30) * 1000)),
        ("put_item", _put_inprogress("k1", now + 1, now + 3601, (now + 31) * 1000)),
        ("put_item", _put_inprogress("k2", now, now + 10, (now + 5) * 1000)),
        ("put_item", _put_inprogress("k2", now + 20, now + 3620, (now + 50) * 1000)),
        ("put_item", _put_inprogress("k3", now, now + 3600, (now + 5) * 1000)),
        ("put_item", _put_inprogress("k3", now + 6, now + 3606, (now + 36) * 1000)),
        ("update_item", _save_success("k1", now + 3600, '{"ok": 1}')),
        ("update_item", _save_success("k2", now + 3620, '{"ok": 2}', ReturnValues="UPDATED_OLD")),
        ("update_item", _save_success("absent", now, "x", ReturnValues="ALL_NEW")),
        ("put_item", _put_inprogress("k1", now + 2, now + 3602, (now + 32) * 1000)),  # completed: fails
        ("delete_item", {"TableName": "idem", "Key": {"id": {"S": "k3"}}}),
        ("put_item", _put_inprogress("k3", now + 7, now + 3607, (now + 37) * 1000)),  # deleted: succeeds
        # update expressions: nested paths, list indexes, functions, arithmetic, REMOVE order, ADD/DELETE
        ("update_item", _update("a", "SET a = :m, n = :one, l = :l, s = :s",
                                {":m": nested, ":one": _n(1), ":l": {"L": [_n(0), _n(1), _n(2), _n(3)]},
                                 ":s": {"SS": ["x", "y"]}})),
        ("update_item", _update("b", "SET a = :m, n = :one, l = :l, s = :s",
                                {":m": {"M": {"b": {"L": [_n(7)]}}}, ":one": _n(5), ":l": {"L": [_n(9)]},
                                 ":s": {"SS": ["z"]}})),
        ("update_item", _update("a", "SET a.b[1] = :v, n = n + :one", {":v": _n(20), ":one": _n(2)})),
        ("update_item", _update("b", "SET a.b[1] = :v, n = n + :one", {":v": _n(21), ":one": _n(3)})),
        ("update_item", _update("a", "SET l = list_append(l, :more), c = if_not_exists(c, :zero)",
                                {":more": {"L": [_n(4)]}, ":zero": _n(0)})),
        ("update_item", _update("b", "SET l = list_append(l, :more), c = if_not_exists(c, :zero)",
                                {":more": {"L": [_n(5), _n(6)]}, ":zero": _n(10)})),
        ("update_item", _update("a", "REMOVE l[0], l[2] ADD t :add DELETE s :del",
                                {":add": {"SS": ["w"]}, ":del": {"SS": ["x"]}})),
        ("update_item", _update("b", "REMOVE l[0], l[2] ADD t :add DELETE s :del",
                                {":add": {"SS": ["q"]}, ":del": {"SS": ["z"]}})),
        ("update_item", _update("b", "ADD s :add DELETE s :del", {":add": {"SS": ["q"]}, ":del": {"SS": ["z"]}})),
        ("update_item", _update("a", "SET #v = :v", {":v": _n(1), ":big": _n(5)}, {"#v": "v"},
                                ConditionExpression="n BETWEEN :v AND :big AND begins_with(pk, :v)")),
        ("update_item", _update("a", "SET #v = :v", {":v": {"S": "a"}, ":big": _n(5)}, {"#v": "v"},
                                ConditionExpression="size(l) IN (:big, :v) OR NOT (attribute_exists(pk))")),
        ("update_item", _update("b", "SET #v = :v", {":v": {"S": "b"}, ":x": {"S": "b"}}, {"#v": "v"},
                                ConditionExpression="begins_with(pk, :x) AND (contains(s, :x) OR n <> :x)",
                                ReturnValuesOnConditionCheckFailure="ALL_OLD")),
        ("update_item", _update("b", "SET #v = :v", {":v": {"S": "b"}, ":x": {"S": "q"}}, {"#v": "v"},
                                ConditionExpression="begins_with(pk, :x) AND (contains(s, :x) OR n <> :x)",
                                ReturnValuesOnConditionCheckFailure="ALL_OLD")),
        # a condition's structure reused with other values, and with a value missing
        ("update_item", _update("a", "SET #v = :v", {":v": _n(2), ":big": _n(9)}, {"#v": "v"},
                                ConditionExpression="n BETWEEN :v AND :big AND begins_with(pk, :v)")),
        ("update_item", _update("a", "SET #v = :v", {":v": {"S": "a"}, ":big": _n(1)}, {"#v": "v"},
                                ConditionExpression="size(l) IN (:big, :v) OR NOT (attribute_exists(pk))")),
        ("put_item", {**_put_inprogress("k9", now, now + 1, now * 1000),
                      "ExpressionAttributeValues": {":now": _n(now), ":inprogress": {"S": "INPROGRESS"}}}),
        ("update_item", _update("a", "SET #v = :v", {":big": _n(9)}, {"#v": "v"},
                                ConditionExpression="n BETWEEN :v AND :big AND begins_with(pk, :v)")),
        # invalid requests: the same error, first use and cached use
        ("update_item", _update("a", "SET #v = :v", {":v": _n(1)}, {"#v": "v", "#unused": "u"})),
        ("update_item", _update("a", "SET #v = :v", {":v": _n(1)}, {"#v": "v", "#unused": "u"})),
        ("update_item", _update("a", "SET v = :missing", {":v": _n(1)})),
        ("update_item", _update("a", "SET v = :missing", {":w": _n(1)})),
        ("update_item", _update("a", "SET = :v", {":v": _n(1)})),
        ("update_item", _update("a", "SET = :v", {":v": _n(1)})),
        ("update_item", _update("a", "SET a.b[1] = :v", {":v": _n(1)})),  # a.b now a list of one: fine
        ("update_item", _update("a", "SET n = n + :s", {":s": {"S": "text"}})),  # type mismatch
        ("update_item", _update("a", "SET n = n + :s", {":s": {"S": "more"}})),
        ("update_item", _update("a", "SET pk = :s", {":s": {"S": "x"}})),  # key attribute
        # the expression-only checks, passed once for a string: other names or a bad one still meet them
        ("update_item", _update("a", "SET #x = :v, #y = :v", {":v": _n(1)}, {"#x": "x", "#y": "y"})),
        ("update_item", _update("a", "SET #x = :v, #y = :v", {":v": _n(2)}, {"#x": "x", "#y": "y"})),
        ("update_item", _update("a", "SET #x = :v, #y = :v", {":v": _n(1)}, {"#x": "x", "#y": "x"})),
        ("update_item", _update("a", "SET #x = :v", {":v": _n(3)}, {"#x": "x"})),
        ("update_item", _update("a", "SET #x = :v", {":v": {"S": "k"}}, {"#x": "pk"})),  # the key, renamed
        ("update_item", _update("a", "SET #x = :v", {":v": {"S": "k"}}, {"#x": "pk"})),
        ("update_item", _update("a", "SET x = :v SET y = :v", {":v": _n(1)})),  # two SET clauses
        ("update_item", _update("a", "SET x = :v SET y = :v", {":v": _n(1)})),
        ("update_item", _update("a", "SET v = :v", {":v": _n(1)}, ConditionExpression="status = :v")),  # reserved
        ("update_item", _update("a", "SET v = :v", {":v": _n(1)}, ConditionExpression="status = :v")),
        ("update_item", _update("a", "SET v = :v", {":v": _n(1)}, ConditionExpression="((v = :v))")),
        ("delete_item", {"TableName": "items", "Key": {"pk": {"S": "b"}, "sk": _n(1)},
                         "ConditionExpression": "n > :n", "ExpressionAttributeValues": {":n": _n(100)},
                         "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}),
        ("delete_item", {"TableName": "items", "Key": {"pk": {"S": "b"}, "sk": _n(1)},
                         "ConditionExpression": "n > :n", "ExpressionAttributeValues": {":n": _n(1)},
                         "ReturnValues": "ALL_OLD"}),
        ("transact_write_items", {"TransactItems": [
            {"Update": {"TableName": "items", "Key": {"pk": {"S": "a"}, "sk": _n(1)},
                        "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": _n(1)},
                        "ConditionExpression": "attribute_exists(pk)"}},
            {"Update": {"TableName": "items", "Key": {"pk": {"S": "c"}, "sk": _n(1)},
                        "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": _n(1)},
                        "ConditionExpression": "attribute_exists(pk)"}},
        ]}),
        ("transact_write_items", {"TransactItems": [
            {"Update": {"TableName": "items", "Key": {"pk": {"S": "a"}, "sk": _n(1)},
                        "UpdateExpression": "SET n = n + :one", "ExpressionAttributeValues": {":one": _n(1)},
                        "ConditionExpression": "attribute_exists(pk)"}},
        ]}),
        ("scan", {"TableName": "items", "FilterExpression": "n > :one AND attribute_exists(l)",
                  "ExpressionAttributeValues": {":one": _n(1)}}),
    ]


def _answer(client: Any, operation: str, call: dict[str, Any]) -> dict[str, Any]:
    try:
        response = getattr(client, operation)(**call)
    except ClientError as error:
        return {"error": error.response["Error"], "item": error.response.get("Item"),
                "reasons": error.response.get("CancellationReasons")}
    except KeyError as error:  # moto 5.2.5 lets a missing condition value escape as a KeyError
        return {"raised": repr(error)}
    response.pop("ResponseMetadata", None)
    return {"ok": response}


def scenario(patched: bool) -> dict[str, Any]:
    """Every call's answer (response or error), then every item of both tables."""
    with mock_aws(), cached_expression_parsing() if patched else nullcontext():
        client = boto3.client("dynamodb", region_name=REGION)
        _idempotency_table(client)
        client.create_table(TableName="items",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "N"}],
                            BillingMode="PAY_PER_REQUEST")
        answers = [_answer(client, operation, call) for operation, call in _calls()]
        tables = {name: sorted(map(repr, client.scan(TableName=name)["Items"])) for name in ("idem", "items")}
    return {"answers": answers, "tables": tables}


def test_dynamodb_calls_answer_the_same_with_and_without_the_patch() -> None:
    plain, patched = scenario(patched=False), scenario(patched=True)
    for i, (a, b) in enumerate(zip(plain["answers"], patched["answers"], strict=True)):
        assert b == a, f"call {i} ({_calls()[i][0]}) answered differently"
    assert patched["tables"] == plain["tables"]
    # the scenario covered what the patch touches: conditional failures with the old item, returned
    # attributes, validation errors from both parsers, and the updates' effects on stored items
    answers = plain["answers"]
    failed = [a for a in answers if a.get("error", {}).get("Code") == "ConditionalCheckFailedException"]
    assert len(failed) >= 3 and any(a["item"] for a in failed)
    assert any(a.get("error", {}).get("Code") == "ValidationException" for a in answers)
    assert answers[1]["item"]["status"] == {"S": "INPROGRESS"}  # the duplicate got the stored record back
    assert answers[8]["ok"]["Attributes"]["status"] == {"S": "COMPLETED"}
    assert any("'l': {'L': [{'N': '1'}, {'N': '3'}, {'N': '4'}]}" in item for item in plain["tables"]["items"])


def test_the_expression_only_checks_run_once_per_string_names_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    validators = _moto("parsing.validators")
    counted: list[str] = []
    original = validators.ActionCountValidator.verify_action_counts

    def counting(self: Any, node: Any) -> Any:
        counted.append("checked")
        return original(self, node)

    monkeypatch.setattr(validators.ActionCountValidator, "verify_action_counts", counting)
    with mock_aws(), cached_expression_parsing():
        client = boto3.client("dynamodb", region_name=REGION)
        _idempotency_table(client)
        client.update_item(**_save_success("k0", 1_700_000_000, "x"))
        first = len(counted)  # one check per UpdateExpression node of the tree
        assert first > 0
        for n in range(1, 4):
            client.update_item(**_save_success(f"k{n}", 1_700_000_000 + n, "x"))
        assert len(counted) == first  # later updates with that string, names and key: not checked again
        other_names = _save_success("k9", 1, "x")
        other_names["ExpressionAttributeNames"] = {**other_names["ExpressionAttributeNames"], "#expiry": "until"}
        client.update_item(**other_names)
        assert len(counted) == 2 * first
    assert validators.UpdateExpressionValidator.validate is validators.Validator.validate  # restored
    assert "__init__" not in validators.UpdateExpressionValidator.__dict__


def _moto(module: str) -> Any:
    """A moto dynamodb module; they are untyped (`# type: ignore` at their top)."""
    return importlib.import_module(f"moto.dynamodb.{module}")


def _shape(node: Any) -> Any:
    """A node's class and attributes, children and values included, parents as class names only."""
    if not hasattr(node, "children"):
        return node
    return (type(node).__name__, {k: (type(v).__name__ if k == "parent" else _shape(v) if k != "children"
                                      else [_shape(c) for c in v or []]) for k, v in vars(node).items()})


def test_repeated_expressions_are_parsed_once_while_open_and_restored_after() -> None:
    ConditionExpressionParser = _moto("comparisons").ConditionExpressionParser
    ast_nodes, validators = _moto("parsing.ast_nodes"), _moto("parsing.validators")
    UpdateExpressionParser = _moto("parsing.expressions").UpdateExpressionParser

    def patched_names() -> tuple[Any, ...]:
        return (UpdateExpressionParser.__dict__["make"], ast_nodes.DepthFirstTraverser.__dict__["traverse"],
                ConditionExpressionParser.__dict__["_lex_condition_expression"], validators.deepcopy)

    originals = patched_names()
    with cached_expression_parsing():
        tree = UpdateExpressionParser.make(POWERTOOLS_UPDATE)
        assert UpdateExpressionParser.make(POWERTOOLS_UPDATE) is tree
        copied = validators.deepcopy(tree)  # the validator's copy: a fresh tree of the same shape
        assert copied is not tree and repr(_shape(copied)) == repr(_shape(tree))
        tokens = [ConditionExpressionParser(POWERTOOLS_CONDITION, POWERTOOLS_NAMES, {})._lex_condition_expression()
                  for _ in range(2)]
        assert tokens[0] is not tokens[1] and list(tokens[0]) == list(tokens[1])
        assert all(a is b for a, b in zip(tokens[0], tokens[1], strict=True))
    assert patched_names() == originals
    assert UpdateExpressionParser.make(POWERTOOLS_UPDATE) is not UpdateExpressionParser.make(POWERTOOLS_UPDATE)


def test_the_patch_is_restored_when_the_run_fails() -> None:
    UpdateExpressionParser = _moto("parsing.expressions").UpdateExpressionParser
    original = UpdateExpressionParser.__dict__["make"]
    with pytest.raises(RuntimeError), cached_expression_parsing():
        raise RuntimeError("run failed")
    assert UpdateExpressionParser.__dict__["make"] is original


def test_a_condition_is_structured_once_and_evaluated_per_request(monkeypatch: pytest.MonkeyPatch) -> None:
    comparisons = _moto("comparisons")
    parsed: list[str] = []
    original = comparisons.ConditionExpressionParser._parse_paths

    def counting(self: Any, nodes: Any) -> Any:
        parsed.append(self.condition_expression)
        return original(self, nodes)

    monkeypatch.setattr(comparisons.ConditionExpressionParser, "_parse_paths", counting)
    built: list[str] = []
    make_op = comparisons.ConditionExpressionParser._make_op_condition

    depth: list[int] = []

    def counting_ops(self: Any, node: Any) -> Any:  # operator trees built (not the recursive calls inside)
        if not depth:
            built.append(self.condition_expression)
        depth.append(1)
        try:
            return make_op(self, node)
        finally:
            depth.pop()

    monkeypatch.setattr(comparisons.ConditionExpressionParser, "_make_op_condition", counting_ops)
    with mock_aws(), cached_expression_parsing():
        client = boto3.client("dynamodb", region_name=REGION)
        _idempotency_table(client)
        now = 1_700_000_000
        client.put_item(**_put_inprogress("k", now, now + 60, now * 1000))
        assert len(parsed) == 1 and len(built) == 1  # the model reused the response layer's parse
        built.clear()
        with pytest.raises(ClientError, match="ConditionalCheckFailed"):  # the same call again:
            client.put_item(**_put_inprogress("k", now, now + 60, now * 1000))
        assert len(built) == 1  # a new operator tree for this request's values,
        assert len(parsed) == 1  # from the tree the first parse built for this expression and these names
    assert not hasattr(comparisons.ConditionExpressionParser.parse, "__wrapped__")  # restored
