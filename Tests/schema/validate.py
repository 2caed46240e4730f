#!/usr/bin/env python3
"""Validate Circle wire messages against Docs/schema.

Reads JSON lines (one message per line; blank lines are skipped) from FILE or stdin, picks the schema
`<direction>.<type>.json` by each message's `type`, and validates it (JSON Schema draft 2020-12, `jsonschema`
package). Prints each failure, then `N passed, M failed`. Exits 1 if any line fails (bad JSON, not an object, no or
unknown `type`, or a schema violation), 0 otherwise.

    python3 Tests/schema/validate.py --direction server messages.jsonl
    some-client | python3 Tests/schema/validate.py --direction client
"""

import argparse
import json
import pathlib
import sys

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SCHEMA_DIR = pathlib.Path(__file__).resolve().parents[2] / "Docs" / "schema"


def load_registry(schema_dir):
    """Every schema file, keyed by its `$id` (cross-file `$ref`s resolve through it) and by file name."""
    by_name = {}
    resources = []
    for path in sorted(schema_dir.glob("*.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
        by_name[path.name] = schema
        resources.append((schema["$id"], Resource.from_contents(schema)))
    return by_name, Registry().with_resources(resources)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--direction", choices=["server", "client"], required=True,
                        help="server: messages the server sends; client: messages clients send")
    parser.add_argument("--schemas", type=pathlib.Path, default=SCHEMA_DIR, help="the schema directory")
    parser.add_argument("file", nargs="?", help="JSON lines to check (default: stdin)")
    args = parser.parse_args()

    schemas, registry = load_registry(args.schemas)
    validators = {}
    stream = open(args.file, encoding="utf-8") if args.file else sys.stdin
    passed = failed = 0

    def fail(line_number, reason):
        nonlocal failed
        failed += 1
        print(f"line {line_number}: {reason}")

    with stream:
        for line_number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except json.JSONDecodeError as error:
                fail(line_number, f"not JSON: {error.msg}")
                continue
            if not isinstance(message, dict) or not isinstance(message.get("type"), str):
                fail(line_number, "not an object with a string `type`")
                continue
            name = f"{args.direction}.{message['type']}.json"
            if name not in schemas or name == "defs.json":
                fail(line_number, f"unknown {args.direction} message type {message['type']!r}")
                continue
            validator = validators.get(name)
            if validator is None:
                validator = validators[name] = Draft202012Validator(schemas[name], registry=registry)
            errors = sorted(validator.iter_errors(message), key=lambda e: list(e.absolute_path))
            if errors:
                details = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(message)'}: {e.message}"
                                    for e in errors)
                fail(line_number, f"{message['type']}: {details}")
            else:
                passed += 1

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
