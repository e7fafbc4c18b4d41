"""Questionnaires: extract the questions of a file, answer them as a job, write them back."""
