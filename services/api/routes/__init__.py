"""One router module per resource: thin handlers that parse, call a service or a report, answer."""
