"""YAML syntax errors in plain words, at the line where the mistake is.

PyYAML says what its parser expected (`expected <block end>, but found '<block mapping start>'`)
and where it noticed, which is often the line after the mistake: an unclosed `{` is noticed where
the next key begins. The usual mistakes (a tab, a line indented wrongly, a key without `:`, an
unclosed bracket or quote, a value that needs quotes) are told here in the words an operator uses,
at the line to fix; anything else keeps PyYAML's own words.
"""

from __future__ import annotations

import re

import yaml

_CANNOT_START = re.compile(r"found character '(.+)' that cannot start any token")
_UNDEFINED_ALIAS = re.compile(r"found undefined alias '(.*)'")
_NODE_CONTENT = re.compile(r"expected the node content, but found '(.*)'")
_FLOW = re.compile(r"expected ',' or '([\]}])', but got")


_NO_COLON = "a key without ':' after it (every line of a mapping reads 'key: value'), or a line indented wrongly"


def _key_without_colon_before(source: str, line: int) -> int:
    """The line just before `line` when it is a bare word at the same indentation (a key that lost its
    ':', which YAML reads as the start of a value running on into `line`), else 0."""
    lines = source.splitlines()
    if not 2 <= line <= len(lines):
        return 0
    here, before = lines[line - 1], lines[line - 2]
    indent = len(here) - len(here.lstrip(" "))
    bare = before.strip()
    if bare and ":" not in bare and not bare.startswith(("-", "#", "[", "{")) and \
            len(before) - len(before.lstrip(" ")) == indent:
        return line - 1
    return 0


def _line(mark: yaml.Mark | None) -> int:
    return mark.line + 1 if mark is not None else 0


def _unclosed_bracket(text: str) -> int:
    """The line of the outermost '[' or '{' that is never closed (quotes and comments skipped), or 0."""
    stack: list[int] = []
    for number, line in enumerate(text.splitlines(), 1):
        quote = ""
        for index, char in enumerate(line):
            if quote:
                quote = "" if char == quote else quote
            elif char in "'\"" and (index == 0 or line[index - 1] in " [{,:"):
                quote = char
            elif char == "#" and (index == 0 or line[index - 1] == " "):
                break
            elif char in "[{":
                stack.append(number)
            elif char in "]}" and stack:
                stack.pop()
    return stack[0] if stack else 0


def plain_yaml_error(error: yaml.MarkedYAMLError, source: str) -> tuple[int, str]:
    """(line, message) for a syntax error in `source`; the message starts with `YAML syntax: `."""
    problem, context = error.problem or "", error.context or ""
    at_problem, at_context = _line(error.problem_mark), _line(error.context_mark)
    line, text = at_problem or at_context, problem or context
    if match := _CANNOT_START.fullmatch(problem):
        character = match.group(1)
        if character == "\\t":
            text = "a tab where YAML needs spaces: indent with spaces only, never with tabs"
        else:
            text = f"'{character}' cannot start a value: put the value in quotes"
    elif problem == "mapping values are not allowed here" and (bare := _key_without_colon_before(source, line)):
        line, text = bare, _NO_COLON
    elif problem == "mapping values are not allowed here":
        text = ("a ':' where none can be: this line is indented deeper than the line above it, "
                "or its value holds ': ' and needs quotes")
    elif problem.startswith("expected <block end>, but found '?'") or (
            problem.startswith("expected <block end>") and "block collection" in context):
        text = "a key among list items: a list ('- item') and keys ('key: value') cannot share one indentation"
    elif problem.startswith("expected <block end>"):
        text = "this line does not line up with the lines above it: indent it exactly like the key it belongs with"
    elif problem == "could not find expected ':'":
        line, text = at_context or at_problem, _NO_COLON
    elif match := _FLOW.match(problem):
        line = at_context or at_problem
        opening = "{" if match.group(1) == "}" else "["
        text = (f"the '{opening}' on this line is not closed with '{match.group(1)}' "
                "(or a ',' is missing between its entries)")
    elif problem == "found unexpected end of stream" and "quoted scalar" in context:
        line = at_context or at_problem
        text = "a quote opened on this line is never closed"
    elif match := _UNDEFINED_ALIAS.fullmatch(problem):
        text = f"'*{match.group(1)}' reads as an alias, which gslb does not support: put the value in quotes"
    elif problem.endswith("but found '<stream end>'") and (opened := _unclosed_bracket(source)):
        line = opened
        text = "the file ends inside the '[' or '{' opened on this line: close it"
    elif match := _NODE_CONTENT.fullmatch(problem):
        found = match.group(1)
        text = ("a value is missing here" if found.startswith("<")
                else f"'{found}' cannot stand here: put the value in quotes")
    elif "found another document" in problem:
        text = "a second document ('---'): a file holds one document"
    elif problem.startswith("found unknown escape character"):
        text = "an unknown escape (a backslash) in double quotes: use single quotes for text with backslashes"
    return line, f"YAML syntax: {text}"
