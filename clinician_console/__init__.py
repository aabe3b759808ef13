"""The clinician console: a FastAPI server and a static page for therapists."""
