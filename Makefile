.PHONY: install test lint bench

install:
	pip install -e '.[test]'

test:
	pytest -q
	cargo test -q

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy --features python -- -D warnings
	ruff check python tests benches examples

bench:
	python benches/parse_one.py
	python benches/merge_stream.py
	cargo bench --bench parsers
