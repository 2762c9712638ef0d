"""Pulumi components of async-pipelines and the typed stack-config model they are built from."""
