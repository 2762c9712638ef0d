"""Take the re-parsing cost out of moto's DynamoDB expressions, without changing what moto answers.

Most of a sandbox run's API calls are Powertools idempotency calls (PutItem with a ConditionExpression,
UpdateItem with an UpdateExpression, DeleteItem), and moto 5.2.5 parses the same few expression strings
again on every call, twice (once in the response layer to check placeholders, once in the model):

- `ConditionExpressionParser._lex_condition_expression` splits the string into tokens with a list of
  regular expressions per token. The tokens are a pure function of the string: the attribute names and
  values are looked up only in the next step (`_parse_paths`), so caching the tokens per string keeps
  every lookup, error and `Op` built per call. The cached tokens are immutable `Node` tuples whose empty
  `children` lists no step appends to; each call gets its own `deque` of them (the parser pops it).
- `UpdateExpressionParser.make` builds an AST that is also a pure function of the string. Its callers
  only read it (`find_clauses`) or hand it to `UpdateExpressionValidator`, which validates and executes
  a `deepcopy` of it (`Validator.__init__`), so one parsed tree per string can be shared; that copy is
  made from the tree's pickle, taken once (`_ParsedUpdateExpressions.deepcopy`).
- `DepthFirstTraverser.traverse` (ten passes per UpdateItem) rebuilds the processor's class map twice
  per visited node (`nodes_to_be_processed`, `process`); every moto processor's `_processing_map` returns
  the same constant map, so it is built once per pass here, visiting nodes in the same order with the
  same `pre_processing_of_child` hook and the same in-place child replacement.
- Three of those ten passes (`EXPRESSION_ONLY_CHECKS`) only raise or hand every node back unchanged, and
  read nothing but the tree, its `ExpressionAttributeNames` and the table's key attributes. Once they
  passed for a cached expression string with the same names and key attributes, they would pass again,
  so `UpdateExpressionValidator.validate` skips them for that triple (`_ValidatedChecks`). A failure is
  never remembered: an invalid expression meets moto's own checks every time.

- Each PutItem, UpdateItem and DeleteItem parses its ConditionExpression twice with the very same three
  arguments: the response layer to check the placeholders (it keeps only the names and values found),
  the model to evaluate it. `_SecondParse` hands the second parse the first one's operator tree and
  found lists when the expression string is equal and the names and values are the same objects with
  the same contents; any other parse in between, or any difference, and moto parses again. The tree is
  only read when evaluated.
- The rest of a condition's parse (paths, functions, comparators, IN, BETWEEN, parentheses and
  booleans) is a function of the tokens and the names: the values are looked up once, into the
  `EXPRESSION_ATTRIBUTE_VALUE` leaves, and no later step reads them. `_ConditionTemplates` keeps, per
  (expression, names), the node tree a successful parse built, and for the next call with those puts
  that call's values into a copy of the tree's leaves (looked up in the expression's order, so a
  missing one raises moto's own error), then runs moto's remaining steps on it: the parentheses check,
  the found names and values, the operator tree.

`cached_expression_parsing()` applies this to the in-process sandbox only (engine.py), like
`moto_speed.py` does for SQS. `tests/sandbox/test_moto_expression_cache.py` runs Powertools-shaped and
edge-case calls against plain and patched moto and checks identical items, ConditionalCheckFailed
outcomes, returned attributes and error messages.
"""

from __future__ import annotations

import copy
import functools
import importlib
import pickle
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sandbox.patching import replaced

CACHE_SIZE = 512
"""Distinct expression strings kept per cache: a program uses a handful; generated ones must not grow it."""


def _cached_lexer(parser_class: Any) -> Callable[[Any], deque[Any]]:
    original = parser_class.__dict__["_lex_condition_expression"]

    @functools.lru_cache(maxsize=CACHE_SIZE)
    def tokens(expression: str) -> tuple[Any, ...]:
        probe = parser_class(expression, None, None)  # lexing reads only the expression string
        return tuple(original(probe))

    @functools.wraps(original)
    def lex(self: Any) -> deque[Any]:
        return deque(tokens(self.condition_expression))

    return lex


class _ParsedUpdateExpressions:
    """One parsed tree per UpdateExpression string, and a fast copy of it for the validator.

    `UpdateExpressionValidator` deep-copies the tree it is given before it substitutes placeholders;
    for a tree from this cache the copy is made from the tree's pickle, taken once when it was parsed
    (same objects, same classes, same sharing as `deepcopy`, about ten times faster). Anything else
    goes to `copy.deepcopy` as before. At most CACHE_SIZE strings are kept; later ones parse each time.
    """

    def __init__(self, parse: Callable[[str], Any]) -> None:
        self._parse = parse
        self._by_text: dict[str, tuple[Any, bytes, str]] = {}
        self._by_id: dict[int, tuple[Any, bytes, str]] = {}

    def make(self, expression: str) -> Any:
        if (hit := self._by_text.get(expression)) is not None:
            return hit[0]
        tree = self._parse(expression)
        if len(self._by_text) < CACHE_SIZE:
            entry = (tree, pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL), expression)
            self._by_text[expression] = entry
            self._by_id[id(tree)] = entry  # the tree stays alive in _by_text, so its id stays its own
        return tree

    def text_of(self, tree: Any) -> str | None:
        """The expression string a cached tree was parsed from (None for any other tree)."""
        hit = self._by_id.get(id(tree))
        return hit[2] if hit is not None and hit[0] is tree else None

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        hit = self._by_id.get(id(value))
        if hit is not None and hit[0] is value and memo is None:
            return pickle.loads(hit[1])  # bytes this process pickled itself
        return copy.deepcopy(value, memo)

    def make_classmethod(self) -> Any:
        """`make` as moto calls it: `UpdateExpressionParser.make(expression_str)`."""

        def make(cls: type, expression_str: str) -> Any:
            return self.make(expression_str)

        return classmethod(make)


def _single_map_traverse(node_type: Any) -> Callable[[Any, Any], Any]:
    def traverse(self: Any, root: Any) -> Any:
        processors = tuple(self._processing_map().items())
        processed_types = tuple(node_class for node_class, _ in processors)
        before_child = self.pre_processing_of_child

        def visit(node: Any, child_id: int) -> Any:
            if isinstance(node, node_type):
                parent_node = node.parent
                if node.children is not None:
                    for i, child_node in enumerate(node.children):
                        before_child(node, i)
                        visit(child_node, i)
                if isinstance(node, processed_types):
                    for node_class, process in processors:  # the first class that matches, as moto's `process`
                        if isinstance(node, node_class):
                            node = process(node)
                            break
                    node.parent = parent_node
                    if parent_node:
                        parent_node.children[child_id] = node
            return node

        return visit(root, -1)

    return traverse


class _SecondParse:
    """`ConditionExpressionParser.parse` that gives an immediate second parse of the same request the first
    one's result (module docstring). Requests on other threads cannot match: their names and values are
    other objects, alive at the same time."""

    def __init__(self, parse: Callable[[Any], Any]) -> None:
        self._parse = parse
        self._last: tuple[str, Any, Any, str, Any, list[Any], list[Any]] | None = None

    def parse(self) -> Callable[[Any], Any]:
        @functools.wraps(self._parse)
        def parse(parser: Any) -> Any:
            names, values = parser.expression_attribute_names, parser.expression_attribute_values
            expression, last, self._last = parser.condition_expression, self._last, None
            if not expression:
                return self._parse(parser)
            contents = repr((names, values))  # dicts of strings, lists and dicts: equal repr, equal contents
            if last is not None and last[0] == expression and last[1] is names and last[2] is values \
                    and last[3] == contents:
                parser.expr_attr_names_found.extend(last[5])
                parser.expr_attr_values_found.extend(last[6])
                return last[4]
            op = self._parse(parser)
            self._last = (expression, names, values, contents, op,
                          list(parser.expr_attr_names_found), list(parser.expr_attr_values_found))
            return op

        return parse


class _ConditionTemplates:
    """`ConditionExpressionParser.parse` with the structure of each (expression, names) built once (module
    docstring). Its last four steps are moto's `parse` tail, run on every call."""

    def __init__(self, parse: Callable[[Any], Any], parser_class: Any) -> None:
        self._parse = parse
        self._value_kind = parser_class.Kind.EXPRESSION_ATTRIBUTE_VALUE
        self._trees: dict[tuple[str, frozenset[tuple[str, str]] | None], Any] = {}

    def _with_values(self, parser: Any, node: Any) -> Any:
        if node.kind == self._value_kind:
            return node._replace(value=parser._lookup_expression_attribute_value(node.text))
        if not node.children:
            return node
        return node._replace(children=[self._with_values(parser, child) for child in node.children])

    def parse(self) -> Callable[[Any], Any]:
        original, trees = self._parse, self._trees

        @functools.wraps(original)
        def parse(parser: Any) -> Any:
            expression, names = parser.condition_expression, parser.expression_attribute_names
            try:
                key = (expression, None if names is None else frozenset(names.items()))
                tree = trees.get(key) if expression else None
            except (AttributeError, TypeError):  # names that are not a dict of strings: moto's own parse
                return original(parser)
            if tree is None:
                built: list[Any] = []
                check = parser._assert_no_redundant_parentheses

                def first_check(node: Any, *args: Any) -> None:  # its first call gets the whole tree
                    if not built:
                        built.append(node)
                    check(node, *args)

                parser._assert_no_redundant_parentheses = first_check
                try:
                    op = original(parser)
                finally:
                    del parser._assert_no_redundant_parentheses
                if expression and built and len(trees) < CACHE_SIZE:
                    trees[key] = built[0]
                return op
            node = self._with_values(parser, tree)
            parser._assert_no_redundant_parentheses(node)
            parser.expr_attr_names_found.extend(parser._find_literals(node))
            parser.expr_attr_values_found.extend(parser._find_expr_attr_values(node))
            return parser._make_op_condition(node)

        return parse


EXPRESSION_ONLY_CHECKS = ("ActionCountValidator", "OverlappingPathsValidator", "UpdateHashRangeKeyValidator")
"""moto's first three UpdateExpression passes: they raise or return every node unchanged (module docstring)."""


class _ValidatedChecks:
    """`UpdateExpressionValidator` with the expression-only checks skipped once they passed for a key.

    The key is (expression string, its ExpressionAttributeNames, the table's key attributes), known only
    for trees from `_ParsedUpdateExpressions`; any other tree, or processors in an unexpected order,
    get moto's own `validate`.
    """

    KEY = "_ap_checks_key"

    def __init__(self, validator_class: Any, updates: _ParsedUpdateExpressions) -> None:
        self._init = validator_class.__init__  # both inherited from moto's `Validator`
        self._validate = validator_class.validate
        self._updates = updates
        self._passed: set[Any] = set()

    def init(self) -> Callable[..., None]:
        original, updates, key_name = self._init, self._updates, self.KEY

        @functools.wraps(original)
        def init(validator: Any, expression: Any, *args: Any, **kwargs: Any) -> None:
            original(validator, expression, *args, **kwargs)
            text, names = updates.text_of(expression), validator.expression_attribute_names
            try:
                key = None if text is None else (
                    text, frozenset((names or {}).items()), tuple(validator.table.table_key_attrs))
                hash(key)
            except TypeError:  # unhashable names or key attributes: moto's own passes
                key = None
            validator.__dict__[key_name] = key

        return init

    def validate(self) -> Callable[[Any], Any]:
        original, passed, key_name = self._validate, self._passed, self.KEY

        @functools.wraps(original)
        def validate(validator: Any) -> Any:
            key = validator.__dict__.get(key_name)
            processors = validator.processors
            checks = len(EXPRESSION_ONLY_CHECKS)
            if key is None or tuple(type(p).__name__ for p in processors[:checks]) != EXPRESSION_ONLY_CHECKS:
                return original(validator)
            n = validator.node_to_validate
            if key not in passed:
                for processor in processors[:checks]:
                    n = processor.traverse(n)  # raises for an invalid expression: nothing remembered
                if len(passed) < CACHE_SIZE:
                    passed.add(key)
            for processor in processors[checks:]:
                n = processor.traverse(n)
            return n

        return validate


@contextmanager
def cached_expression_parsing() -> Iterator[None]:
    """Patch moto's in-process DynamoDB expression parsing as the module docstring says; restore it on exit."""
    # moto's dynamodb modules are untyped (`# type: ignore` at their top): reach them as Any
    comparisons: Any = importlib.import_module("moto.dynamodb.comparisons")
    ast_nodes: Any = importlib.import_module("moto.dynamodb.parsing.ast_nodes")
    expressions: Any = importlib.import_module("moto.dynamodb.parsing.expressions")
    validators: Any = importlib.import_module("moto.dynamodb.parsing.validators")

    parser_class = comparisons.ConditionExpressionParser
    templates = _ConditionTemplates(parser_class.__dict__["parse"], parser_class)
    updates = _ParsedUpdateExpressions(expressions.UpdateExpressionParser.make)
    checks = _ValidatedChecks(validators.UpdateExpressionValidator, updates)
    with replaced() as patches:
        patches.set(parser_class, "_lex_condition_expression", _cached_lexer(parser_class))
        patches.set(parser_class, "parse", _SecondParse(templates.parse()).parse())
        patches.set(expressions.UpdateExpressionParser, "make", updates.make_classmethod())
        patches.set(validators, "deepcopy", updates.deepcopy)
        patches.set(ast_nodes.DepthFirstTraverser, "traverse", _single_map_traverse(ast_nodes.Node))
        patches.set(validators.UpdateExpressionValidator, "__init__", checks.init())  # both inherited
        patches.set(validators.UpdateExpressionValidator, "validate", checks.validate())
        yield
