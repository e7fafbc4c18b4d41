"""DDQ: answer due-diligence questionnaires from an approved knowledge base."""

__version__ = "0.1.0"
