"""Enrolment, verification, identification, audit and capture services. No Qt."""
