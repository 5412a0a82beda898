"""cloudplane: deploy, verify and manage Ray-ready clouds in your own AWS account."""

__version__ = "0.1.0"
