"""Independent ActivityPub implementations that the tests and the conformance suite run against."""
