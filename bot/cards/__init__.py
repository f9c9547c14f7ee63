"""Rendering: the Flex cards and texts of each capability, built from what the domain computed.

Below the domain (which queues what these build) and above the infrastructure; never queries
the database or decides anything.
"""
