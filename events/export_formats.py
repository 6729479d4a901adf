"""Export encodings: ndjson (the stored envelope), CloudEvents 1.0 (one structured-mode event
per line) and CSV. Each yields text chunks, so the API and the CLI send the same bytes."""
import csv
import io
from collections.abc import Iterable, Iterator

from events.canonical import canonical_json
from events.envelope import ENVELOPE_FIELDS, Envelope

MEDIA_TYPES = {"ndjson": "application/x-ndjson", "cloudevents": "application/x-ndjson",
               "csv": "text/csv; charset=utf-8"}
FILE_NAMES = {"ndjson": "dealtrail-export.ndjson", "cloudevents": "dealtrail-export.cloudevents.ndjson",
              "csv": "dealtrail-export.csv"}
FORMATS = tuple(MEDIA_TYPES)


def ndjson(envs: Iterable[Envelope]) -> Iterator[str]:
    """Canonical JSON of the whole envelope: drop `hash`, re-encode, and the chain re-hashes."""
    for env in envs:
        yield env.to_json() + "\n"


def cloudevent(env: Envelope) -> dict:
    """Absent optional attributes are left out rather than null (CloudEvents JSON format §3.1)."""
    return {k: v for k, v in env.to_cloudevent().items() if v is not None}


def cloudevents(envs: Iterable[Envelope]) -> Iterator[str]:
    for env in envs:
        yield canonical_json(cloudevent(env)) + "\n"


def _csv_row(values: list) -> str:
    out = io.StringIO()
    csv.writer(out).writerow(values)
    return out.getvalue()


def csv_rows(envs: Iterable[Envelope]) -> Iterator[str]:
    """Header, then one row per event; `data` as canonical JSON text, null (or left out, as a
    null `actor_key_id` is) as empty."""
    yield _csv_row(list(ENVELOPE_FIELDS))
    for env in envs:
        fields = env.to_dict()
        fields["data"] = canonical_json(env.data)
        yield _csv_row(["" if fields.get(k) is None else fields[k] for k in ENVELOPE_FIELDS])


ENCODERS = {"ndjson": ndjson, "cloudevents": cloudevents, "csv": csv_rows}


def encode(fmt: str, envs: Iterable[Envelope]) -> Iterator[str]:
    return ENCODERS[fmt](envs)

