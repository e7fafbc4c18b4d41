"""One error type with a code; the CLI (and later the API) turns it into a clean message."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    CONFIG = "config_error"
    NOT_FOUND = "not_found"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNREADABLE_FILE = "unreadable_file"
    ENCRYPTED_FILE = "encrypted_file"
    EMPTY_FILE = "empty_file"
    NO_QUESTION_COLUMN = "no_question_column"
    NO_ANSWER_COLUMN = "no_answer_column"
    INVALID_INPUT = "invalid_input"
    FILE_TOO_LARGE = "file_too_large"
    UNSAFE_FILE = "unsafe_file"
    NO_QUESTIONS = "no_questions"
    MODEL_UNAVAILABLE = "model_unavailable"
    STORE_ERROR = "store_error"
    INDEX_ERROR = "index_error"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    RATE_LIMITED = "rate_limited"
    TIMEOUT = "timeout"  # no answer within the request's deadline


class DDQError(Exception):
    """An expected failure with a code and a one-line, user-facing message."""

    def __init__(self, code: ErrorCode, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail

    def __str__(self) -> str:
        return self.detail
