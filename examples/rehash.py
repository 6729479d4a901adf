"""Re-hash a Dealtrail ndjson export with the standard library only (docs/audit.md: Export).
Usage: python rehash.py export.ndjson  -> "ok: N events", or the first broken event, exit 1."""
import hashlib
import json
import sys

tips, count = {}, 0  # deal_id -> hash of its last event seen
for count, line in enumerate(open(sys.argv[1], encoding="utf-8"), 1):
    event = json.loads(line)
    claimed = event.pop("hash")
    canonical = json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    computed = hashlib.sha256((event["prev_hash"] + canonical).encode("utf-8")).hexdigest()
    first = "0" * 64 if event["stream_version"] == 1 else event["prev_hash"]  # partial exports
    if event["prev_hash"] != tips.get(event["deal_id"], first) or computed != claimed:
        sys.exit(f"broken: line {count}, event {event['event_id']} (deal {event['deal_id']}, "
                 f"position {event['position']})")
    tips[event["deal_id"]] = claimed
print(f"ok: {count} events, {len(tips)} streams")
