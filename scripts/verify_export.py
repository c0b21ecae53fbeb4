"""Recompute a channel's chain from an export's <channel>.jsonl with Python alone (docs/compliance.md):
python verify_export.py general.jsonl [CHAIN_BEFORE]  (the manifest's chain_before when not from its first seq)"""

import hashlib
import json
import sys


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


chain, last, broken = sys.argv[2] if len(sys.argv) > 2 else "0" * 64, None, False
with open(sys.argv[1], encoding="utf-8") as lines:
    for line in lines:
        entry = json.loads(line)
        seq, record = entry["seq"], entry["record"]  # record: null once redacted, its hash kept
        if entry["chain"] is None:
            break  # the newest, not chained yet when exported
        problems = [f"gap: seq {last + 1} to {seq - 1} missing"] if last is not None and seq != last + 1 else []
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        if record is not None and sha256(canonical) != entry["content_hash"]:
            problems.append("edited: the record does not match its content_hash")
        chain = sha256(chain + entry["content_hash"])
        if chain != entry["chain"]:
            problems.append("chain: does not follow from the one before")
            chain = entry["chain"]
        for problem in problems:
            print(f"seq {seq}: {problem}")
        broken, last = broken or bool(problems), seq
print(f"{'broken' if broken else 'intact'}: up to seq {last}, chain {chain}")
sys.exit(1 if broken else 0)
