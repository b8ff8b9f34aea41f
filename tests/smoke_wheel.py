"""Smoke test run by CI against the installed wheel, outside the source tree."""

import pathlib
import sys

import chatchunk

here = pathlib.Path(chatchunk.__file__).parent
assert "site-packages" in str(here), f"not the installed wheel: {here}"
assert (here / "py.typed").exists() and (here / "_core.pyi").exists(), "stubs missing from wheel"

chunk = chatchunk.ChatCompletionChunk.from_json(
    b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}],'
    b'"usage":{"prompt_tokens":20,"completion_tokens":1,"total_tokens":21,'
    b'"prompt_tokens_details":{"cached_tokens":10}}}'
)
assert chunk.choices[0].delta.content == "Hello"
assert chunk.usage.prompt_tokens_details.cached_tokens == 10
try:
    chatchunk.ChatCompletionChunk.from_json(b'{"choices": [}')
except chatchunk.ParseError as e:
    assert e.line == 1 and e.path.startswith("$")
else:
    raise AssertionError("bad JSON was accepted")
assert chatchunk.validate_chunks(pathlib.Path(sys.argv[1]).read_bytes()) == []
print("wheel smoke test passed:", chatchunk.__version__, here)
