"""Request and response models: pure pydantic, no ORM and no web framework."""
