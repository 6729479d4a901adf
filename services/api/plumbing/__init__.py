"""What every route shares: authentication and access, correlation ids, the access log, errors,
strict parameters, body limits, CORS, metrics, the response models."""
