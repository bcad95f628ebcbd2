"""Request and response schemas of the JSON API (pydantic); the OpenAPI document is built from
them by :mod:`labelapp.api.validation`."""
