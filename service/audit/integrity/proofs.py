"""Checking one inclusion proof with the public key alone; pure, no I/O.

A proof (GET /api/v1/audit/events/{seq}/proof, `nrm audit proof SEQ`) holds the event, its leaf
index, the tree size, the audit path and the signed checkpoint. It proves the event when: the
event hashes to its `hash` (chain.py), its leaf leads up the path to the checkpoint's `root`
(merkle.py), the tree size is the checkpoint's `event_count`, the seq lies in its range, and the
checkpoint hashes to its `hash` and carries a valid signature (signing.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.audit.integrity.chain import event_hash
from service.audit.integrity.merkle import event_leaf, verify_inclusion
from service.audit.integrity.signing import checkpoint_hash, signature_valid


def check_proof(proof: Mapping[str, Any], public_keys: Mapping[str, bytes]) -> list[str]:
    """What is wrong with an inclusion proof (GET /api/v1/audit/events/{seq}/proof); [] if it
    proves that the event, exactly as given, is sealed by a checkpoint signed by a trusted key."""
    try:
        return _proof_problems(proof, public_keys)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return ["the proof is malformed"]


def _proof_problems(proof: Mapping[str, Any], public_keys: Mapping[str, bytes]) -> list[str]:
    event, checkpoint = proof["event"], proof["checkpoint"]
    problems = []
    if event_hash(event) != event["hash"]:
        problems.append("the event's content does not match its hash")
    leaf = event_leaf(event["seq"], event["hash"])
    if leaf.hex() != proof["leaf_hash"]:
        problems.append("the leaf hash is not the event's leaf")
    if not checkpoint["first_seq"] <= event["seq"] <= checkpoint["last_seq"]:
        problems.append("the event's seq is outside the checkpoint's range")
    if proof["tree_size"] != checkpoint["event_count"]:
        problems.append("the tree size is not the checkpoint's event count")
    path = [bytes.fromhex(node) for node in proof["audit_path"]]
    root = bytes.fromhex(checkpoint["root"])
    if not verify_inclusion(leaf, proof["leaf_index"], proof["tree_size"], path, root):
        problems.append("the audit path does not lead from the leaf to the checkpoint's root")
    if checkpoint_hash(checkpoint) != checkpoint["hash"]:
        problems.append("the checkpoint's content does not match its hash")
    key = public_keys.get(checkpoint["key_id"])
    if key is None or not signature_valid(key, checkpoint, checkpoint["signature"]):
        problems.append("the checkpoint's signature does not verify with the public key")
    return problems
