"""The shim that start-up scripts of sandbox instances load (as `sitecustomize`) to live in their VPC."""
