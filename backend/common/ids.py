import uuid


def parse_uuid(value: str | None) -> uuid.UUID | None:
    """A public id from a form field, or None when it is not one (forms answer 404, not 500)."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
