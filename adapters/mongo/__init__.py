"""The storage port on MongoDB (``mongodb://`` / ``mongodb+srv://``)."""

from adapters.mongo.store import MongoStore

__all__ = ["MongoStore"]
