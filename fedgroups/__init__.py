"""fedgroups: federated support groups built on ActivityPub Group actors."""

__version__ = "0.1.0"
