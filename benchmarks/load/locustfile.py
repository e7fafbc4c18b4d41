"""Locust users for the service: reviewers reading and reviewing drafts, and people asking
one-off questions. Run by benchmarks/bench_service_load.py (which starts the service, seeds
it and passes DDQ_LOAD_KEY / DDQ_LOAD_QUESTIONNAIRE); not a test.

A 409 from a review is the service doing its job (two reviewers acting on the same answer):
it counts as a success, and is tallied apart as "conflict".
"""

from __future__ import annotations

import os
import random

from locust import HttpUser, between, task

KEY = os.environ.get("DDQ_LOAD_KEY", "")
QUESTIONNAIRE = int(os.environ.get("DDQ_LOAD_QUESTIONNAIRE", "1"))
QUESTIONS = [
    "Is customer data encrypted at rest?",
    "How often are access reviews performed?",
    "Do you have an incident response plan?",
    "How long are backups retained?",
    "Is multi-factor authentication required for administrators?",
    "Do you perform annual penetration tests?",
    "How quickly are customers notified of a breach?",
    "Which encryption algorithm protects data in transit?",
]


class Reviewer(HttpUser):
    wait_time = between(0.5, 1.5)
    weight = 3

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {KEY}"

    @task(4)
    def list_questions(self) -> None:
        self.client.get(f"/api/questionnaires/{QUESTIONNAIRE}/questions",
                        name="GET /api/questionnaires/{id}/questions")

    @task(2)
    def progress(self) -> None:
        self.client.get(f"/api/questionnaires/{QUESTIONNAIRE}",
                        name="GET /api/questionnaires/{id}")

    @task(2)
    def review(self) -> None:
        questions = self.client.get(f"/api/questionnaires/{QUESTIONNAIRE}/questions",
                                    name="GET /api/questionnaires/{id}/questions").json()
        question = random.choice(questions)
        body = {"action": "reassign", "version": question["review"]["version"],
                "assignee": f"reviewer-{random.randint(1, 5)}@example.com"}
        with self.client.post(
                f"/api/questionnaires/{QUESTIONNAIRE}/questions/{question['id']}/review",
                json=body, name="POST /api/questionnaires/{id}/questions/{qid}/review",
                catch_response=True) as response:
            if response.status_code in (200, 409):
                response.success()


class Asker(HttpUser):
    wait_time = between(0.5, 1.5)
    weight = 1

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {KEY}"

    @task
    def ask(self) -> None:
        self.client.post("/api/ask", json={"question": random.choice(QUESTIONS)},
                         name="POST /api/ask")
