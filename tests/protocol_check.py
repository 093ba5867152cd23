"""Validation of every message a kernel sends, against the Jupyter protocol schemas.

Uses jupyter_kernel_test's schemas (written by the Jupyter project, not by us) and adds the
message types they do not cover.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft4Validator
from jupyter_kernel_test.msgspec_v5 import (
    reply_msgs_using_status,
    schema_fragments,
    validate_message,
)

_EXTRA: dict[str, dict[str, Any]] = {
    "iopub_welcome": {"properties": {"subscription": {"type": "string"}}},
    "comm_open": {
        "properties": {
            "comm_id": {"type": "string"},
            "target_name": {"type": "string"},
            "data": {"type": "object"},
        },
        "required": ["comm_id", "data"],
    },
    "comm_msg": {"properties": {"comm_id": {"type": "string"}, "data": {"type": "object"}}},
    "comm_close": {"properties": {"comm_id": {"type": "string"}, "data": {"type": "object"}}},
    # debug_reply and debug_event carry a Debug Adapter Protocol response and event as they are
    "debug_reply": {
        "properties": {
            "type": {"enum": ["response"]},
            "request_seq": {"type": "integer"},
            "success": {"type": "boolean"},
            "command": {"type": "string"},
            "message": {"type": "string"},
            "body": {"type": "object"},
        },
        "required": ["type", "request_seq", "success", "command"],
    },
    "debug_event": {
        "properties": {
            "type": {"enum": ["event"]},
            "seq": {"type": "integer"},
            "event": {"type": "string"},
            "body": {"type": "object"},
        },
        "required": ["type", "seq", "event"],
    },
    # kernel subshells (protocol 5.5, JEP 91); an error reply is checked as any error reply
    "create_subshell_reply": {"properties": {"subshell_id": {"type": "string"}}, "required": ["subshell_id"]},
    "delete_subshell_reply": {"properties": {"status": {"enum": ["ok"]}}},
    "list_subshell_reply": {
        "properties": {"subshell_id": {"type": "array", "items": {"type": "string"}}},
        "required": ["subshell_id"],
    },
    # Not in the specification: our kernel's own iopub note that it waits for input.
    "mycon_input_wait": {
        "properties": {
            "prompt": {"type": "string"},
            "password": {"type": "boolean"},
            "state": {"enum": ["waiting", "answered", "cancelled"]},
        },
        "required": ["prompt", "password", "state"],
        "additionalProperties": False,
    },
}
for _name, _fragment in _EXTRA.items():
    schema_fragments.setdefault(_name, _fragment)
reply_msgs_using_status.update({"create_subshell_reply", "delete_subshell_reply", "list_subshell_reply"})

# The specification says ``password`` is a boolean; the borrowed schema says "number".
schema_fragments["input_request"] = {
    "properties": {"prompt": {"type": "string"}, "password": {"type": "boolean"}}
}

_ABORTED = Draft4Validator(
    {
        "type": "object",
        "properties": {
            "status": {"enum": ["aborted"]},
            "execution_count": {"type": "integer"},
        },
        "required": ["status"],
    }
)


def check(msg: dict[str, Any], msg_type: str | None = None, parent_id: str | None = None) -> dict[str, Any]:
    """Validate one message (raises jsonschema.ValidationError); return it for chaining."""
    if msg.get("content", {}).get("status") == "aborted":
        _ABORTED.validate(msg["content"])
        if parent_id is not None:
            assert msg["parent_header"]["msg_id"] == parent_id
        return msg
    validate_message(msg, msg_type, parent_id)
    return msg
