"""A black-box federation conformance suite for ActivityPub group servers.

Run it against any instance, fedgroups or not: `python -m conformance https://host --group NAME`.
It only speaks HTTP to the instance, and starts its own peer server (signing with bovine, an
independent implementation) to follow the group, post to it and receive what the group sends.
"""
