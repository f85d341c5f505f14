"""The HTTP API: ``create_app()`` builds the FastAPI app over a bootstrapped ``Container``."""
