"""Clusters in a cloud: launching, terminating and verifying them, and the compute configs they launch with."""
