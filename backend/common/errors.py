class NotPermitted(Exception):
    """The viewer may not have this. The message tells them why in plain words; the API answers 403."""

    code = "not_permitted"
