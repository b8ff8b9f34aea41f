"""JSONTestSuite: invalid JSON is always a ParseError, and valid JSON that is not
a chunk is a ParseError too -- never any other exception, never a crash."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from chatchunk import ChatCompletionChunk, ParseError
from conftest import JSONTESTSUITE_DIR, max_nesting, parse_in_subprocess

N_FILES = sorted(JSONTESTSUITE_DIR.glob("n_*.json"))
Y_FILES = sorted(JSONTESTSUITE_DIR.glob("y_*.json"))

#: Deeper than this, parse in a child interpreter so a stack overflow fails one
#: test instead of killing the run.
ISOLATE_DEPTH = 1000


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


def _utf8(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _assert_parse_error(data: bytes | str) -> ParseError:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if max_nesting(raw) > ISOLATE_DEPTH:
        result = parse_in_subprocess(raw, "str" if isinstance(data, str) else "bytes")
        assert result["outcome"] == "ParseError", result
        return None  # type: ignore[return-value]
    try:
        ChatCompletionChunk.from_json(data)
    except ParseError as e:
        assert type(e) is ParseError
        assert e.line is not None and e.line >= 1
        assert e.column is not None and e.column >= 1
        assert e.offset is not None and 0 <= e.offset <= len(raw)
        assert isinstance(e.path, str) and e.path.startswith("$")
        return e
    except BaseException as e:
        pytest.fail(f"raised {type(e).__name__}: {e!r} instead of ParseError")
    pytest.fail("accepted invalid input")


def test_suite_is_present():
    assert len(N_FILES) > 150
    assert len(Y_FILES) > 80


@pytest.mark.parametrize("path", N_FILES, ids=_ids(N_FILES))
def test_invalid_json_bytes(path):
    _assert_parse_error(path.read_bytes())


N_UTF8_FILES = [p for p in N_FILES if _utf8(p.read_bytes()) is not None]


@pytest.mark.parametrize("path", N_UTF8_FILES, ids=_ids(N_UTF8_FILES))
def test_invalid_json_str(path):
    _assert_parse_error(path.read_bytes().decode("utf-8"))


@pytest.mark.parametrize("path", N_FILES, ids=_ids(N_FILES))
def test_invalid_json_inside_a_chunk(path):
    # The same document as the value of an unknown key of an otherwise fine chunk.
    _assert_parse_error(b'{"choices": [], "x": ' + path.read_bytes() + b"}")


@pytest.mark.parametrize("path", Y_FILES, ids=_ids(Y_FILES))
def test_valid_json_that_is_not_a_chunk(path):
    data = path.read_bytes()
    value = json.loads(data)
    assert not (isinstance(value, dict) and "choices" in value), "suite has a chunk-like file"
    e = _assert_parse_error(data)
    # valid JSON: the complaint is about the shape, at the document itself
    assert e.path == "$"
    text = _utf8(data)
    assert text is not None
    e2 = _assert_parse_error(text)
    assert e2.path == "$"


@pytest.mark.parametrize("path", Y_FILES, ids=_ids(Y_FILES))
def test_valid_json_as_extra_value_round_trips(path):
    data = path.read_bytes()
    value = json.loads(data)
    c = ChatCompletionChunk.from_json(b'{"choices": [], "x": ' + data + b"}")
    assert c.extra == {"x": value}
    assert json.loads(c.to_json()) == {"choices": [], "x": value}
    assert c.to_dict() == {"choices": [], "x": value}
