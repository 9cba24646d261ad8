"""Stub of the WebUI's `modules` package: just what an extension touches, recording what it is asked to do."""
